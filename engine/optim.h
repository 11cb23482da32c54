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

// The same step split in two, for a step captured in a CUDA graph (engine/cuda_graph.h): prepare() (never
// inside a capture) checks the tensors, builds the table of the parameters that have a gradient and puts
// it, with step `step`'s scalars, in device memory this object keeps; launch() runs the update (and may be
// captured). The table holds the gradients' addresses: between prepare() and the last launch() they must
// keep their memory (zero them with fill_, not zero_grad). `guard` (a one-element tensor of the
// parameters' type on their device, or undefined): the update is skipped on the device when its value is
// not finite, so a captured step with a NaN loss leaves parameters and moments untouched. adam_step is
// prepare() + launch() with no guard.
class AdamLaunch {
 public:
  void prepare(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
               int64_t step, const AdamHyper& hyper, const Tensor& guard = Tensor());
  void launch() const;

 private:
  Device device_;
  DType dtype_ = DType::kFloat32;
  int64_t count_ = 0, max_n_ = 0;
  Tensor state_;                        // scalars, then the slot table (bytes; on the CPU, host memory)
  Tensor guard_;                        // or undefined
  std::vector<Tensor> params_, m_, v_;  // kept alive while the table points at them
};

}  // namespace lits
