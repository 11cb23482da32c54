// One training step, written once for the trainer and `lits bench train`: this rank's batch uploaded,
// the forward pass, the deep-supervision loss, the backward pass and the gradient reduction. The update
// (AdamOptimizer::step at the schedule's learning rate) is the caller's, once the step's loss is known to
// be finite on every rank, so a bad step never reaches the weights.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/device.h"
#include "engine/tensor.h"
#include "models/unet.h"
#include "pipeline/data/loader.h"
#include "pipeline/dist/grad_reducer.h"
#include "pipeline/train/metrics.h"
#include "pipeline/train/plan.h"

namespace lits {

// The points of a step where `lits bench train` stops its clocks (after synchronising the device).
enum class StepPhase { kData, kForward, kBackward, kReduce };

struct StepConfig {
  UNet* net = nullptr;  // in training mode, on `device`
  const TrainPlan* plan = nullptr;
  Device device;
  // Data parallel: with a reducer each rank's loss gradient is weighted by its share of the step's samples,
  // so the reduced sum is the gradient of the global batch's mean loss.
  GradReducer* reducer = nullptr;
  bool overlap = true;                      // count the predicted masks' overlap with the targets
  std::function<void(StepPhase)> on_phase;  // optional: called as each phase ends
};

struct StepResult {
  double loss = 0.0;  // mean over this rank's samples; 0 when the network did not run
  Overlap overlap;    // of this rank's samples (when asked)
};

// Gradients of `batch` in the parameters' .grad (zeroed first). `run` false (a rank without samples, or
// a step left out by every rank) still takes part in the gradient reduction, with zero gradients.
StepResult train_step(const StepConfig& config, const Batch& batch, bool run = true);

// Overlap of sample `sample`'s predicted mask (predicted_mask, inside `liver` when defined) with its target.
Overlap overlap_of(const Tensor& out, const Tensor& target, const Tensor& liver, int64_t sample);

}  // namespace lits
