// One training step (see step.h).
#include "pipeline/train/step.h"

#include "engine/autograd.h"
#include "pipeline/train/samples.h"

namespace lits {

Overlap overlap_of(const Tensor& out, const Tensor& target, const Tensor& liver, int64_t sample) {
  const int64_t hw = out.shape()[2] * out.shape()[3];
  const std::vector<uint8_t> pred =
      predicted_mask(out, sample, liver.defined() ? liver.data<uint8_t>() + sample * hw : nullptr);
  const int64_t* t = target.data<int64_t>() + sample * hw;
  Overlap r;
  for (int64_t p = 0; p < hw; ++p) {
    const bool fg = pred[static_cast<size_t>(p)] != 0, tr = t[p] != 0;
    r.both += fg && tr;
    r.pred += fg;
    r.truth += tr;
  }
  return r;
}

StepResult train_step(const StepConfig& c, const Batch& b, bool run) {
  auto phase = [&](StepPhase p) {
    if (c.on_phase) c.on_phase(p);
  };
  StepResult r;
  c.net->zero_grad();
  if (c.reducer) c.reducer->begin();
  if (run && b.size() > 0) {
    const Tensor x = b.input.to(c.device), t = b.target.to(c.device);
    const Tensor w = b.weightmap.defined() ? b.weightmap.to(c.device) : Tensor();
    phase(StepPhase::kData);
    const UNetOutput out = c.net->run(x);
    const TrainPlan& plan = *c.plan;
    const Tensor loss = deep_supervision_loss(plan.loss, out.out, out.aux, t, w, plan.loss_options);
    r.loss = loss.item();  // also waits for the device
    phase(StepPhase::kForward);
    if (c.reducer == nullptr) {
      loss.backward();
    } else {
      const double share = static_cast<double>(b.size()) / static_cast<double>(b.step_samples);
      loss.backward(Tensor::full(loss.shape(), share, loss.dtype(), loss.device()));
    }
    phase(StepPhase::kBackward);
    if (c.overlap) {
      const Tensor host_out = out.out.detach().to(Device::cpu());
      for (int64_t s = 0; s < host_out.shape()[0]; ++s) r.overlap += overlap_of(host_out, b.target, Tensor(), s);
    }
  }
  if (c.reducer) c.reducer->finish();  // what is left of the reduction after backward
  phase(StepPhase::kReduce);
  return r;
}

}  // namespace lits
