// The UNet's fused inference path on the CPU: the evaluation-mode network rebuilt as one
// kernels::InferProgram per input shape (oneDNN primitives in blocked layouts from the input to
// the output, post-ops, a planned activation arena; kernels/infer_program.h). What it changes
// against the op-by-op path (UNet::run):
//   - a BatchNorm right after a convolution (the input norm, ResBlock norms, the next level's
//     first norm after a strided-conv pool) is folded into that convolution's weights and bias;
//   - a BatchNorm before a padded 3 x 3 convolution is not (the padding would see the shift), so
//     it runs as a per-channel affine post-op of the producer, or in place after a concat;
//   - skip sums and LeakyReLU are post-ops of the convolution that precedes them;
//   - the bottleneck's downsampler, whose output the network discards, is not run.
// float32 outputs agree with UNet::run to about 1e-6 (tests/models/unet_fused_test.cpp holds
// them within 1e-4). Segmentation and `lits bench infer` use it on the CPU; training never does.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/unet.h"

namespace lits {
namespace kernels {
class InferProgram;
}

class FusedUNet {
 public:
  // Empty when `net` can take the fused path: a build with oneDNN, float32 weights on the CPU,
  // BatchNorm (GroupNorm normalises with each input's own statistics) and no squeeze-excitation.
  // Otherwise the reason, for messages.
  static std::string unsupported(const UNet& net);

  // `net` must outlive this and keep its weights: each program holds its own reordered copy,
  // made when a shape is first run. Throws with the reason when unsupported.
  explicit FusedUNet(UNet& net);
  ~FusedUNet();
  FusedUNet(const FusedUNet&) = delete;
  FusedUNet& operator=(const FusedUNet&) = delete;

  // What net.run(x).out gives in evaluation mode (probabilities, or logits with output_logits)
  // for a float32 CPU input.
  Tensor run(const Tensor& x);

  // The program for an [n, channels, h, w] input: activation arena and weight bytes, reorders,
  // and one line per primitive.
  std::string describe(int64_t n, int64_t h, int64_t w);
  // Its activation arena, allocated outside the engine's allocator (so not in its statistics).
  int64_t arena_bytes(int64_t n, int64_t h, int64_t w);

 private:
  kernels::InferProgram& program(int64_t n, int64_t h, int64_t w);

  UNet& net_;
  struct Entry {
    std::array<int64_t, 4> key;  // n, h, w, threads
    std::unique_ptr<kernels::InferProgram> program;
  };
  std::vector<Entry> programs_;  // the two most recent shapes (a volume's last, shorter batch)
};

}  // namespace lits
