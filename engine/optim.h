// Fused parameter updates: not recorded by autograd, in place, one pass over every parameter. The
// optimizers with their state and schedules live in pipeline/; the update math is kernels/adam.h.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace lits {

struct AdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2: added to the gradient (PyTorch 0.4.1 Adam's weight_decay)
};

// Adam step number `step` (1 for the first) on params[k] with moments m[k], v[k] (same shape, device and
// dtype as the parameter, contiguous). A parameter without a gradient is skipped entirely, moments and
// weight decay included, as PyTorch does (the reference's unused bottleneck downsampler). All tensors on one
// device, float32 or float64.
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
               int64_t step, const AdamHyper& hyper);

}  // namespace lits
