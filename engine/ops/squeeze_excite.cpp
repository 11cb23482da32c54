// The squeeze-excitation pieces: global_avg_pool (squeeze, [N, C, H, W] -> [N, C]) and
// channel_scale (excite, x [N, C, H, W] * s [N, C]).
#include "kernels/squeeze_excite.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

void check_nchw(const char* op, const Tensor& x, const char* what) {
  check_float_input(op, x, what);
  LITS_CHECK(x.ndim() == 4,
             op << ": " << what << " " << x.str() << " has " << x.ndim() << " dims (expected [N, C, H, W])");
}

int64_t planes_of(const Tensor& x) { return x.shape()[0] * x.shape()[1]; }
int64_t plane_size(const Tensor& x) { return x.shape()[2] * x.shape()[3]; }

// gy: [N, C] -> gx: [N, C, H, W] with g / (H * W) everywhere in each plane.
Tensor avg_pool_backward(const Tensor& gy, const Shape& in_shape) {
  const Tensor gd = dense(gy);
  Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
  const int64_t planes = in_shape[0] * in_shape[1], S = in_shape[2] * in_shape[3];
  LITS_DISPATCH_FLOAT(gy.dtype(), "global_avg_pool backward", {
    const scalar_t* pg = gd.data<scalar_t>();
    scalar_t* px = gx.data<scalar_t>();
    LITS_RUN_KERNEL("global_avg_pool", gy.device(), global_avg_pool_backward, pg, px, planes, S);
  });
  return gx;
}

// gx = g * s (when want_x) and gs = per-plane sum of g * x (when want_s); x and s are the saved
// dense inputs, each undefined when the other's gradient is not wanted.
std::vector<Tensor> channel_scale_backward(const Tensor& g, const Tensor& x, const Tensor& s, const Shape& x_shape,
                                           bool want_x, bool want_s) {
  const Tensor gd = dense(g);
  Tensor gx = want_x ? Tensor::empty(x_shape, g.dtype(), g.device()) : Tensor();
  Tensor gs = want_s ? Tensor::empty({x_shape[0], x_shape[1]}, g.dtype(), g.device()) : Tensor();
  const int64_t planes = x_shape[0] * x_shape[1], S = x_shape[2] * x_shape[3];
  LITS_DISPATCH_FLOAT(g.dtype(), "channel_scale backward", {
    const scalar_t* pg = gd.data<scalar_t>();
    const scalar_t* px = want_s ? x.data<scalar_t>() : nullptr;
    const scalar_t* ps = want_x ? s.data<scalar_t>() : nullptr;
    scalar_t* pgx = want_x ? gx.data<scalar_t>() : nullptr;
    scalar_t* pgs = want_s ? gs.data<scalar_t>() : nullptr;
    LITS_RUN_KERNEL("channel_scale", g.device(), channel_scale_backward, pg, px, ps, pgx, pgs, planes, S);
  });
  return {gx, gs};
}

}  // namespace

Tensor global_avg_pool(const Tensor& x) {
  const char* op = "global_avg_pool";
  check_nchw(op, x, "input");
  LITS_CHECK(plane_size(x) > 0, op << ": input " << x.str() << " has empty planes (expected H >= 1 and W >= 1)");
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[1]}, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Tensor xd = dense(x);
  const int64_t planes = planes_of(x), S = plane_size(x);
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), global_avg_pool_forward, px, py, planes, S);
  });
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    record_op(op, {x}, {y}, [in_shape](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {avg_pool_backward(g[0], in_shape)};
    });
  }
  return y;
}

Tensor channel_scale(const Tensor& x, const Tensor& s) {
  const char* op = "channel_scale";
  check_nchw(op, x, "x");
  check_float_input(op, s, "s");
  check_same_device_dtype(op, {x, s});
  LITS_CHECK(s.ndim() == 2 && s.shape()[0] == x.shape()[0] && s.shape()[1] == x.shape()[1],
             op << ": s " << s.str() << " does not match x " << x.str() << " (expected s of shape "
                << Shape({x.shape()[0], x.shape()[1]}).str() << ", one factor per sample and channel)");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Tensor xd = dense(x), sd = dense(s);
  const int64_t planes = planes_of(x), S = plane_size(x);
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    const scalar_t* ps = sd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), channel_scale_forward, px, ps, py, planes, S);
  });
  if (any_requires_grad({x, s})) {
    const bool want_x = x.requires_grad(), want_s = s.requires_grad();
    // Each gradient needs the other operand only.
    const Tensor saved_x = want_s ? xd.detach() : Tensor(), saved_s = want_x ? sd.detach() : Tensor();
    const Shape x_shape = x.shape();
    record_op(op, {x, s}, {y}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return channel_scale_backward(g[0], saved_x, saved_s, x_shape, want_x, want_s);
    });
  }
  return y;
}

}  // namespace lits
