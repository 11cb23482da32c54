// sum / mean over all or given axes, and sum_to (the reduction that undoes broadcasting).
#include <algorithm>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/copy.h"
#include "kernels/reduce.h"

namespace lits {

namespace {

// Materialises x (shape broadcastable to `shape`) at `shape` by a stride-0 copy.
Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  kernels::CopyIndex ix;
  ix.ndim = shape.ndim();
  const int k = x.ndim();
  for (int i = 0; i < shape.ndim(); ++i) {
    const int d = k - shape.ndim() + i;
    ix.shape[i] = shape[i];
    ix.src_strides[i] = (d >= 0 && x.shape()[d] != 1) ? x.strides()[d] : 0;
    ix.dst_strides[i] = out.strides()[i];
  }
  if (out.numel() > 0) dispatch_copy(x, out, ix, "broadcast_to");
  return out;
}

// Sum of x over the axes flagged in `reduce`; the result keeps size-1 dims (keepdim shape).
Tensor reduce_sum(const char* op, const Tensor& x, const std::vector<bool>& reduce, double factor) {
  const Tensor xd = dense(x);
  std::vector<int64_t> kept(x.ndim());
  kernels::ReduceIndex ix;
  ix.ndim = x.ndim();
  for (int d = 0; d < x.ndim(); ++d) {
    ix.shape[d] = x.shape()[d];
    ix.reduce[d] = reduce[d];
    kept[d] = reduce[d] ? 1 : x.shape()[d];
  }
  Tensor out = Tensor::empty(Shape(kept), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.numel() == 0) {
    out.fill_(0.0);
    return out;
  }
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), sum, px, po, ix, factor);
  });
  return out;
}

std::vector<bool> axes_mask(const char* op, const Tensor& x, const std::vector<int>& axes) {
  std::vector<bool> mask(x.ndim(), false);
  for (int a : axes) {
    const int d = a < 0 ? a + x.ndim() : a;
    LITS_CHECK(d >= 0 && d < x.ndim(), op << ": axis " << a << " out of range for " << x.str());
    LITS_CHECK(!mask[d], op << ": axis " << a << " listed twice");
    mask[d] = true;
  }
  return mask;
}

Tensor reduce_op(const char* op, const Tensor& x, const std::vector<bool>& mask, bool keepdim, bool is_mean) {
  check_float_input(op, x);
  int64_t count = 1;
  std::vector<int64_t> out_dims;
  for (int d = 0; d < x.ndim(); ++d) {
    if (mask[d]) count *= x.shape()[d];
    if (!mask[d] || keepdim) out_dims.push_back(mask[d] ? 1 : x.shape()[d]);
  }
  LITS_CHECK(!is_mean || count > 0, op << ": mean over zero elements of " << x.str());
  const double factor = is_mean ? 1.0 / static_cast<double>(count) : 1.0;
  Tensor keep = reduce_sum(op, x, mask, factor);
  Tensor out = make_view(keep, Shape(out_dims), Shape(out_dims).contiguous_strides(), keep.offset());
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape(), keep_shape = keep.shape();
    record_op(op, {x}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      const Tensor gk = make_view(dense(g[0]), keep_shape, keep_shape.contiguous_strides(), 0);
      Tensor gx = broadcast_to(gk, in_shape);
      if (factor != 1.0) gx = scale(gx, factor);
      return {gx};
    });
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) {
  check_float_input("sum", x);
  return reduce_op("sum", x, std::vector<bool>(x.ndim(), true), false, false);
}
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  check_float_input("sum", x);
  return reduce_op("sum", x, axes_mask("sum", x, axes), keepdim, false);
}
Tensor mean(const Tensor& x) {
  check_float_input("mean", x);
  return reduce_op("mean", x, std::vector<bool>(x.ndim(), true), false, true);
}
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  check_float_input("mean", x);
  return reduce_op("mean", x, axes_mask("mean", x, axes), keepdim, true);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_float_input("sum_to", x);
  if (x.shape() == shape) return x;
  // `shape` must broadcast to x's shape: right-aligned, each dim equal or 1.
  const Shape check = broadcast_shapes(x.shape(), shape, "sum_to");
  LITS_CHECK(check == x.shape(), "sum_to: " << x.str() << " cannot be summed to " << shape.str()
                                            << " (the target must broadcast to the input's shape)");
  std::vector<bool> mask(x.ndim(), false);
  const int lead = x.ndim() - shape.ndim();
  for (int d = 0; d < x.ndim(); ++d) mask[d] = d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1);
  Tensor keep = reduce_sum("sum_to", x, mask, 1.0);
  Tensor out = make_view(keep, shape, shape.contiguous_strides(), keep.offset());
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    record_op("sum_to", {x}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {broadcast_to(dense(g[0]), in_shape)};
    });
  }
  return out;
}

}  // namespace lits
