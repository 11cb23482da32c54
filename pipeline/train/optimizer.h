// The reference's optimizer (docs/reference.md section 6.2): Adam over every parameter with betas (0.9, 0.999),
// eps 1e-8 and L2 weight decay added to the gradient, run by the fused adam_step of engine/optim.h. Holds
// the moments (named after the parameters, for checkpoints) and the step count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/optim.h"
#include "pipeline/io/safetensors.h"

namespace lits {

class AdamOptimizer {
 public:
  // Moments start at zero, on each parameter's device and dtype. The learning rate is given at each step.
  AdamOptimizer(const NamedTensors& params, double weight_decay);

  // One step at learning rate `lr` on the parameters' current gradients.
  void step(double lr);
  int64_t steps() const { return steps_; }

  // The step in parts, for a training step captured in a CUDA graph (engine/optim.h, AdamLaunch):
  // prepare_launch() writes the next step's table and scalars at `lr` (outside the capture), launch() runs
  // the update on the device (capturable; skipped there when `guard`, the loss, is not finite), and
  // commit() counts the step once the caller knows whether it was applied.
  void prepare_launch(double lr, const Tensor& guard);
  void launch() const { launch_.launch(); }
  void commit(bool applied) { steps_ += applied ? 1 : 0; }

  // "m.<parameter>" and "v.<parameter>" for every parameter, in parameter order.
  NamedTensors state() const;
  // Restores moments (copied into place, any device) and the step count; every name and shape must match.
  void load_state(const NamedTensors& state, int64_t steps);

 private:
  NamedTensors params_;
  std::vector<Tensor> params_only_, m_, v_;
  AdamHyper hyper_;  // the reference's betas and eps, and the weight decay; lr set by step()
  int64_t steps_ = 0;
  AdamLaunch launch_;
};

}  // namespace lits
