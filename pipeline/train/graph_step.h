// The training step as one CUDA graph (docs/gpu-fast-path.md, "CUDA graphs"): gradients zeroed in
// place, forward, loss, backward and Adam captured once the batch's shapes have run uncaptured `warmup`
// times, then replayed with one launch per step; a batch of other shapes (an epoch's short last batch)
// starts over, and the graph is captured again when the shapes come back. The batch is copied into
// tensors that outlive the graph, the loss is read after the replay, and its targets are checked on the
// host (a capture cannot wait for the device's check). Adam runs inside the graph and is skipped there
// when the loss is not finite, so a bad step never reaches the weights, as on the uncaptured path.
// The very first step runs the plain path (train_step, AdamOptimizer::step), which creates the gradients
// whose memory the graph then reuses. Not for data-parallel training or dropout (unsupported() says why).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda_graph.h"
#include "pipeline/train/optimizer.h"
#include "pipeline/train/step.h"

namespace lits {

class GraphedStep {
 public:
  // `capture` false runs every step uncaptured on the same path (the reference of the replay test, and
  // what `--no-cuda-graphs` measures against).
  GraphedStep(const StepConfig& config, AdamOptimizer& adam, int warmup = 2, bool capture = true);
  ~GraphedStep();

  // One step on `batch` at learning rate `lr`, Adam included when the loss is finite (the caller reads
  // StepResult::loss and decides what a non-finite loss means).
  StepResult run(const Batch& batch, double lr);

  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }

  // Why `config` cannot run as a CUDA graph, or "" when it can.
  static std::string unsupported(const StepConfig& config);
  // A GraphedStep with the default warm-up, or null with the reason in *why.
  static std::unique_ptr<GraphedStep> make_if_supported(const StepConfig& config, AdamOptimizer& adam,
                                                        std::string* why);

 private:
  void body();  // the captured device work
  void resize_inputs(const Batch& batch);
  void check_targets(const Batch& batch) const;
  std::vector<const void*> grad_addresses() const;

  StepConfig config_;
  AdamOptimizer& adam_;
  int warmup_;
  bool capture_;
  std::unique_ptr<cuda::Graph> graph_;
  Shape input_shape_, weight_shape_;
  int64_t runs_ = 0;  // steps run with the current shapes
  int64_t classes_ = 0;
  Tensor x_, t_, w_;                         // the batch, copied in
  Tensor guard_;                             // the loss, where Adam reads it
  Tensor out_;                               // the last step's main output
  std::vector<const void*> captured_grads_;  // the gradients the graph writes (released ones end it)
  std::vector<bool> had_grad_;               // which parameters the plain step gave a gradient
  int64_t captures_ = 0, replays_ = 0;
};

}  // namespace lits
