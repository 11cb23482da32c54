// The multiclass losses (multiclass_pwce, multiclass_dice, multiclass_combined, cross_entropy,
// dice_ce): option checks, the fused forward (kernels/loss.*) that also keeps the per-sample sums,
// and the fused backward that turns those sums into dL/dx in one pass.
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/loss_common.h"
#include "kernels/loss.h"

namespace lits {

namespace {

kernels::LossParams make_params(const char* op, kernels::LossKind kind, const Tensor& x, const LossOptions& o) {
  const int64_t K = x.shape()[1];
  // Refused on every device alike: the CPU kernel's mean over no pixels was NaN, and the CUDA launcher
  // failed with an invalid (zero-size) launch configuration instead.
  LITS_CHECK(x.numel() > 0, op << ": output " << x.str() << " is empty (the mean over its pixels is undefined)");
  LITS_CHECK(K <= kernels::kMaxLossClasses,
             op << ": output " << x.str() << " has " << K << " classes (at most " << kernels::kMaxLossClasses << ")");
  LITS_CHECK(std::isfinite(o.wmap_weight), op << ": wmap_weight " << o.wmap_weight << " (expected a finite exponent)");
  LITS_CHECK(o.epsilon >= 0.0 && std::isfinite(o.epsilon), op << ": epsilon " << o.epsilon << " (expected >= 0)");
  kernels::LossParams p;
  p.kind = kind;
  p.B = x.shape()[0];
  p.K = K;
  p.N = x.shape()[2] * x.shape()[3];
  p.alpha = o.wmap_weight;
  const std::vector<double> lambda = class_values(op, "class_weights", o.class_weights, K);
  const std::vector<double> omega = class_values(op, "weight_score", o.weight_score, K);
  for (int64_t c = 0; c < K; ++c) {
    p.class_weight[c] = lambda[c];
    p.dice_weight[c] = omega[c];
  }
  return p;
}

// Runs the fused forward and records the fused backward (only x gets a gradient).
Tensor run_loss(const char* op, const kernels::LossParams& params, const Tensor& x, const Tensor& target,
                const Tensor& weightmap) {
  const Tensor xd = dense(x), td = dense(target), wd = weightmap.defined() ? dense(weightmap) : Tensor();
  const Device dev = x.device();
  const Tensor stats = Tensor::empty({kernels::loss_stats_size(params.B, params.K)}, DType::kFloat64, dev);
  Tensor loss = Tensor::empty({}, x.dtype(), dev);
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    const scalar_t* pw = wd.defined() ? wd.data<scalar_t>() : nullptr;
    const int64_t* pt = td.data<int64_t>();
    if (dev.is_cpu()) {
      kernels::loss_forward_cpu(params, px, pt, pw, stats.data<double>(), loss.data<scalar_t>());
    } else {
      const Tensor scratch = Tensor::empty({kernels::loss_forward_cuda_scratch(params)}, DType::kFloat64, dev);
      LITS_CUDA_ONLY(op, dev,
                     kernels::loss_forward_cuda(params, px, pt, pw, stats.data<double>(), scratch.data<double>(),
                                                loss.data<scalar_t>(), stream));
    }
  });
  if (any_requires_grad({x})) {
    const Tensor sx = xd.detach();
    record_op(op, {x}, {loss}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor dx = Tensor::empty(sx.shape(), sx.dtype(), sx.device());
      const Tensor gd = dense(g[0]);
      LITS_DISPATCH_FLOAT(sx.dtype(), op, {
        const scalar_t* px = sx.data<scalar_t>();
        const scalar_t* pw = wd.defined() ? wd.data<scalar_t>() : nullptr;
        const int64_t* pt = td.data<int64_t>();
        scalar_t* pdx = dx.data<scalar_t>();
        if (sx.device().is_cpu()) {
          kernels::loss_backward_cpu(params, px, pt, pw, stats.data<double>(), gd.item(), pdx);
        } else {
          LITS_CUDA_ONLY(
              op, sx.device(),
              kernels::loss_backward_cuda(params, px, pt, pw, stats.data<double>(), gd.data<scalar_t>(), pdx, stream));
        }
      });
      return {dx};
    });
  }
  return loss;
}

}  // namespace

Tensor multiclass_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  const char* op = "multiclass_pwce";
  check_loss_inputs(op, p, target, weightmap, 2, kernels::kMaxLossClasses, 0);
  kernels::LossParams params = make_params(op, kernels::LossKind::kCrossEntropy, p, o);
  params.want_ce = true;
  return run_loss(op, params, p, target, weightmap);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  // The same kernel as multiclass_pwce: there the probabilities play the logits' part.
  const char* op = "cross_entropy";
  check_loss_inputs(op, logits, target, weightmap, 2, kernels::kMaxLossClasses, 0);
  kernels::LossParams params = make_params(op, kernels::LossKind::kCrossEntropy, logits, o);
  params.want_ce = true;
  return run_loss(op, params, logits, target, weightmap);
}

Tensor multiclass_dice(const Tensor& p, const Tensor& target, const LossOptions& o) {
  const char* op = "multiclass_dice";
  check_loss_inputs(op, p, target, Tensor(), 2, kernels::kMaxLossClasses, 0);
  kernels::LossParams params = make_params(op, kernels::LossKind::kDice, p, o);
  params.want_dice = true;
  params.dice_den_eps = o.epsilon;  // the reference: epsilon in the denominator only
  return run_loss(op, params, p, target, Tensor());
}

Tensor multiclass_combined(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  const char* op = "multiclass_combined";
  check_loss_inputs(op, p, target, weightmap, 2, kernels::kMaxLossClasses, 0);
  kernels::LossParams params = make_params(op, kernels::LossKind::kCombined, p, o);
  params.want_ce = true;
  params.want_dice = true;
  params.dice_den_eps = o.epsilon;
  return run_loss(op, params, p, target, weightmap);
}

Tensor dice_ce(const Tensor& logits, const Tensor& target, const Tensor& weightmap, const LossOptions& o) {
  const char* op = "dice_ce";
  check_loss_inputs(op, logits, target, weightmap, 2, kernels::kMaxLossClasses, 0);
  kernels::LossParams params = make_params(op, kernels::LossKind::kDiceCe, logits, o);
  for (int c = 0; c < kernels::kMaxLossClasses; ++c) params.dice_weight[c] = 1.0;  // nnU-Net: unweighted Dice
  params.want_ce = true;
  params.want_dice = true;
  params.dice_softmax = true;
  params.dice_first = 1;  // foreground classes only
  params.dice_num_eps = o.epsilon;
  params.dice_den_eps = o.epsilon;
  return run_loss(op, params, logits, target, weightmap);
}

}  // namespace lits
