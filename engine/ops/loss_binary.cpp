// The reference's secondary losses (docs/reference.md section 3.4): binary_pwce,
// weighted_binary_dice, focal_pwce, focal_dice. Input and option checks, dispatch to
// kernels/loss_binary.*, and the fused backward, which writes dp from the per-sample sums the
// forward kept. Only p gets a gradient: the target and the weightmap are data.
#include "kernels/loss_binary.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/loss_common.h"

namespace lits {

namespace {

using kernels::BinaryFocalLoss;

bool is_binary(BinaryFocalLoss kind) {
  return kind == BinaryFocalLoss::kBinaryPwce || kind == BinaryFocalLoss::kWeightedBinaryDice;
}

// Each loss checks the options it reads; epsilon is a Dice smoothing term or a clamp margin, and
// [eps, 1 - eps] must stay a non-empty interval inside (0, 1).
void check_options(const char* op, BinaryFocalLoss kind, const LossOptions& o) {
  if (kind != BinaryFocalLoss::kFocalDice) {
    LITS_CHECK(std::isfinite(o.wmap_weight), op << ": wmap_weight " << o.wmap_weight << " is not finite");
  }
  if (kind != BinaryFocalLoss::kBinaryPwce) {
    LITS_CHECK(o.epsilon > 0.0 && o.epsilon < 0.5,
               op << ": epsilon " << o.epsilon << " is outside (0, 0.5) (expected a small positive value)");
  }
  if (!is_binary(kind)) {
    LITS_CHECK(std::isfinite(o.focal_gamma) && o.focal_gamma >= 0.0,
               op << ": focal_gamma " << o.focal_gamma << " is invalid (expected a finite value >= 0)");
  }
}

template <typename T>
kernels::BinaryFocalArgs<T> make_args(const Tensor& p, const Tensor& target, const Tensor& w, const LossOptions& o) {
  kernels::BinaryFocalArgs<T> a;
  a.p = p.data<T>();
  a.target = target.data<int64_t>();
  a.w = w.defined() ? w.data<T>() : nullptr;
  a.B = p.shape()[0];
  a.K = p.shape()[1];
  a.N = p.shape()[2] * p.shape()[3];
  a.alpha = o.wmap_weight;
  a.eps = o.epsilon;
  a.gamma = o.focal_gamma;
  return a;
}

Tensor binary_focal_loss(const char* op, BinaryFocalLoss kind, const Tensor& p, const Tensor& target,
                         const Tensor& weightmap, const LossOptions& o) {
  check_options(op, kind, o);
  const bool binary = is_binary(kind);
  // Binary losses: one sigmoid channel, targets in {0, 1}; focal losses: any K >= 2, targets in [0, K).
  check_loss_inputs(op, p, target, weightmap, binary ? 1 : 2, binary ? 1 : std::numeric_limits<int64_t>::max(),
                    binary ? 2 : 0);
  LITS_CHECK(p.numel() > 0, op << ": output " << p.str() << " is empty (the mean over its pixels is undefined)");
  const Tensor pd = dense(p), td = dense(target), wd = weightmap.defined() ? dense(weightmap) : Tensor();
  const Device dev = p.device();
  const int64_t B = p.shape()[0], N = p.shape()[2] * p.shape()[3];
  // The chunk sums are scratch; the per-sample sums stay for the backward.
  const Tensor partials =
      Tensor::empty({B * kernels::binary_focal_chunks(N) * kernels::kBinaryFocalStats}, DType::kFloat64, dev);
  const Tensor stats = Tensor::empty({B, kernels::kBinaryFocalStats}, DType::kFloat64, dev);
  Tensor loss = Tensor::empty(Shape{}, p.dtype(), dev);
  LITS_DISPATCH_FLOAT(p.dtype(), op, {
    const kernels::BinaryFocalArgs<scalar_t> a = make_args<scalar_t>(pd, td, wd, o);
    double* ppart = partials.data<double>();
    double* pstats = stats.data<double>();
    scalar_t* pl = loss.data<scalar_t>();
    LITS_RUN_KERNEL(op, dev, binary_focal_forward, kind, a, ppart, pstats, pl);
  });
  if (any_requires_grad({p})) {
    const Tensor sp = pd.detach(), st = td.detach(), sw = wd.defined() ? wd.detach() : Tensor();
    record_op(op, {p}, {loss}, [=](const std::vector<Tensor>& grads) -> std::vector<Tensor> {
      // g stays on the device: the CUDA kernel reads it there, so no host synchronisation.
      const Tensor g = dense(grads[0]);
      Tensor dp = Tensor::empty(sp.shape(), sp.dtype(), sp.device());
      LITS_DISPATCH_FLOAT(sp.dtype(), op, {
        const kernels::BinaryFocalArgs<scalar_t> a = make_args<scalar_t>(sp, st, sw, o);
        const double* pstats = stats.data<double>();
        const scalar_t* pg = g.data<scalar_t>();
        scalar_t* pdp = dp.data<scalar_t>();
        LITS_RUN_KERNEL(op, dev, binary_focal_backward, kind, a, pstats, pg, pdp);
      });
      return {dp};
    });
  }
  return loss;
}

}  // namespace

Tensor binary_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  return binary_focal_loss("binary_pwce", BinaryFocalLoss::kBinaryPwce, p, target, weightmap, o);
}

Tensor weighted_binary_dice(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  return binary_focal_loss("weighted_binary_dice", BinaryFocalLoss::kWeightedBinaryDice, p, target, weightmap, o);
}

Tensor focal_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  return binary_focal_loss("focal_pwce", BinaryFocalLoss::kFocalPwce, p, target, weightmap, o);
}

Tensor focal_dice(const Tensor& p, const Tensor& target, const LossOptions& o) {
  return binary_focal_loss("focal_dice", BinaryFocalLoss::kFocalDice, p, target, Tensor(), o);
}

}  // namespace lits
