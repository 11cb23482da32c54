// The reference's optimizer (reference-pipeline.md 6.2): Adam over every parameter with betas (0.9, 0.999),
// eps 1e-8 and L2 weight decay added to the gradient, run by the fused adam_step of engine/optim.h. Holds
// the moments (named after the parameters, for checkpoints) and the step count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/optim.h"
#include "pipeline/safetensors.h"

namespace lits {

class AdamOptimizer {
 public:
  // Moments start at zero, on each parameter's device and dtype.
  AdamOptimizer(const NamedTensors& params, const AdamHyper& hyper);

  // One step at learning rate `lr` on the parameters' current gradients.
  void step(double lr);
  int64_t steps() const { return steps_; }
  const AdamHyper& hyper() const { return hyper_; }

  // "m.<parameter>" and "v.<parameter>" for every parameter, in parameter order.
  NamedTensors state() const;
  // Restores moments (copied into place, any device) and the step count; every name and shape must match.
  void load_state(const NamedTensors& state, int64_t steps);

 private:
  NamedTensors params_;
  std::vector<Tensor> params_only_, m_, v_;
  AdamHyper hyper_;
  int64_t steps_ = 0;
};

}  // namespace lits
