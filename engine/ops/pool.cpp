// max_pool2d (saves the argmax of every window for its backward) and upsample_nearest2x.
#include "kernels/pool.h"

#include <cstdint>
#include <limits>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

void check_nchw(const char* op, const Tensor& x) {
  check_float_input(op, x);
  LITS_CHECK(x.ndim() == 4, op << ": input " << x.str() << " has " << x.ndim() << " dims (expected [N, C, H, W])");
}

// gy: [N, C, out_h, out_w] -> gx: [N, C, H, W], routing each gradient to its window's argmax.
Tensor max_pool_backward(const Tensor& argmax, const Tensor& gy, const Shape& in_shape,
                         const kernels::PoolGeometry& geo) {
  const Tensor gd = dense(gy);
  Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
  const int32_t* pa = argmax.data<int32_t>();
  LITS_DISPATCH_FLOAT(gy.dtype(), "max_pool2d backward", {
    const scalar_t* pg = gd.data<scalar_t>();
    scalar_t* px = gx.data<scalar_t>();
    LITS_RUN_KERNEL("max_pool2d", gy.device(), max_pool_backward, pg, pa, px, geo);
  });
  return gx;
}

Tensor upsample_backward(const Tensor& gy, const Shape& in_shape) {
  const Tensor gd = dense(gy);
  Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
  const int64_t planes = in_shape[0] * in_shape[1], h = in_shape[2], w = in_shape[3];
  LITS_DISPATCH_FLOAT(gy.dtype(), "upsample_nearest2x backward", {
    const scalar_t* pg = gd.data<scalar_t>();
    scalar_t* px = gx.data<scalar_t>();
    LITS_RUN_KERNEL("upsample_nearest2x", gy.device(), upsample2x_backward, pg, px, planes, h, w);
  });
  return gx;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const char* op = "max_pool2d";
  check_nchw(op, x);
  LITS_CHECK(kernel >= 1 && stride >= 1 && padding >= 0, op << ": kernel " << kernel << ", stride " << stride
                                                            << ", padding " << padding << " for input " << x.str()
                                                            << " (expected kernel >= 1, stride >= 1, padding >= 0)");
  // As PyTorch: a window that could lie wholly in the padding would have no pixel to pick.
  LITS_CHECK(2 * padding <= kernel, op << ": padding " << padding << " is more than half of kernel " << kernel
                                       << " for input " << x.str() << " (expected padding <= kernel / 2)");
  const int64_t h = x.shape()[2], w = x.shape()[3];
  LITS_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel,
             op << ": kernel " << kernel << " with stride " << stride << " and padding " << padding
                << " gives an empty output for input " << x.str()
                << " (expected H + 2 * padding >= kernel and W + 2 * padding >= kernel)");
  // The argmax is a flat index into one input plane, stored as int32.
  LITS_CHECK(h * w <= std::numeric_limits<int32_t>::max(),
             op << ": input plane " << h << " x " << w << " of " << x.str() << " is too large (expected H * W < 2^31)");

  kernels::PoolGeometry geo;
  geo.planes = x.shape()[0] * x.shape()[1];
  geo.in_h = h;
  geo.in_w = w;
  geo.out_h = kernels::pool_output_size(h, kernel, stride, padding);
  geo.out_w = kernels::pool_output_size(w, kernel, stride, padding);
  geo.kernel = kernel;
  geo.stride = stride;
  geo.padding = padding;
  const Shape out_shape{x.shape()[0], x.shape()[1], geo.out_h, geo.out_w};
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  if (y.numel() == 0) return y;

  const bool needs_grad = any_requires_grad({x});
  const Tensor argmax = needs_grad ? Tensor::empty(out_shape, DType::kInt32, x.device()) : Tensor();
  int32_t* pa = needs_grad ? argmax.data<int32_t>() : nullptr;
  const Tensor xd = dense(x);
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), max_pool_forward, px, py, pa, geo);
  });
  if (needs_grad) {
    const Shape in_shape = x.shape();
    record_op(op, {x}, {y}, [argmax, in_shape, geo](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {max_pool_backward(argmax, g[0], in_shape, geo)};
    });
  }
  return y;
}

Tensor upsample_nearest2x(const Tensor& x) {
  const char* op = "upsample_nearest2x";
  check_nchw(op, x);
  const int64_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[1], 2 * h, 2 * w}, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Tensor xd = dense(x);
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), upsample2x_forward, px, py, planes, h, w);
  });
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    record_op(op, {x}, {y}, [in_shape](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {upsample_backward(g[0], in_shape)};
    });
  }
  return y;
}

}  // namespace lits
