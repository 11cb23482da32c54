// Softmax over the channel axis (dim 1).
#include "kernels/softmax.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

void channel_layout(const Tensor& x, int64_t* n, int64_t* c, int64_t* s) {
  *n = x.shape()[0];
  *c = x.shape()[1];
  *s = 1;
  for (int d = 2; d < x.ndim(); ++d) *s *= x.shape()[d];
}

Tensor softmax_backward(const Tensor& y, const Tensor& g) {
  const Tensor gd = dense(g);
  Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
  int64_t n, c, s;
  channel_layout(y, &n, &c, &s);
  LITS_DISPATCH_FLOAT(y.dtype(), "softmax backward", {
    const scalar_t* py = y.data<scalar_t>();
    const scalar_t* pg = gd.data<scalar_t>();
    scalar_t* px = gx.data<scalar_t>();
    LITS_RUN_KERNEL("softmax", y.device(), softmax_backward, py, pg, px, n, c, s);
  });
  return gx;
}

}  // namespace

Tensor softmax(const Tensor& x) {
  check_float_input("softmax", x);
  LITS_CHECK(x.ndim() >= 2 && x.shape()[1] >= 1,
             "softmax: input " << x.str() << " (expected [N, C, ...] with C >= 1; softmax runs over dim 1)");
  const Tensor xd = dense(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  int64_t n, c, s;
  channel_layout(x, &n, &c, &s);
  LITS_DISPATCH_FLOAT(x.dtype(), "softmax", {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL("softmax", x.device(), softmax_forward, px, py, n, c, s);
  });
  if (any_requires_grad({x})) {
    const Tensor saved = y.detach();
    record_op("softmax", {x}, {y},
              [saved](const std::vector<Tensor>& g) -> std::vector<Tensor> { return {softmax_backward(saved, g[0])}; });
  }
  return y;
}

}  // namespace lits
