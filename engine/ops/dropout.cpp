// dropout2d: whole-channel dropout with a Philox mask, so the CPU and CUDA drop the same channels
// for the same generator state. The backward reuses the saved [N, C] mask of scale factors.
#include "kernels/dropout.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

// y = x * mask per channel; x: [N, C, H, W] contiguous, mask: [N, C]. Also the backward (g for x).
Tensor apply_channel_mask(const char* op, const Tensor& x, const Tensor& mask) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const int64_t channels = mask.numel(), S = x.shape()[2] * x.shape()[3];
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pm = mask.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    LITS_RUN_KERNEL(op, x.device(), dropout_apply, px, pm, py, channels, S);
  });
  return y;
}

}  // namespace

Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen) {
  const char* op = "dropout2d";
  check_float_input(op, x);
  LITS_CHECK(x.ndim() == 4, op << ": input " << x.str() << " has " << x.ndim() << " dims (expected [N, C, H, W])");
  // p == 1 would drop everything and scale by 1/0; refused rather than silently giving zeros.
  LITS_CHECK(p >= 0.0 && p < 1.0,
             op << ": p " << p << " for input " << x.str() << " (expected a drop probability in [0, 1))");
  // The identity draws no mask, so the generator does not advance.
  if (!training || p == 0.0) return x;

  const int64_t n = x.shape()[0], c = x.shape()[1];
  const uint64_t seed = gen.seed(), offset = gen.reserve(n * c);
  Tensor mask = Tensor::empty({n, c}, x.dtype(), x.device());
  if (mask.numel() > 0) {
    LITS_DISPATCH_FLOAT(x.dtype(), op, {
      scalar_t* pm = mask.data<scalar_t>();
      const auto keep_scale = static_cast<scalar_t>(1.0 / (1.0 - p));
      LITS_RUN_KERNEL(op, x.device(), dropout_mask, pm, n * c, p, keep_scale, seed, offset);
    });
  }
  Tensor y = apply_channel_mask(op, dense(x), mask);
  if (any_requires_grad({x})) {
    record_op(op, {x}, {y}, [mask](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {apply_channel_mask("dropout2d backward", dense(g[0]), mask)};
    });
  }
  return y;
}

}  // namespace lits
