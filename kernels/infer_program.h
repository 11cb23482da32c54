// A float32 inference program for the CPU: a fixed sequence of oneDNN primitives over one input
// shape, built once and run many times (the fused inference path of models/unet_fused.h).
//   - Activations stay in the layouts the primitives choose (channel-blocked, nChw8c on AVX2)
//     from the first layer to the last: the only reorders are at the input and the output, and
//     where a primitive asks for another layout than its producer wrote.
//   - Element-wise work after a convolution runs inside it as oneDNN post-ops (a tensor added,
//     LeakyReLU, a per-channel affine); the caller folds what is exactly foldable (a BatchNorm
//     after a convolution) into the weights before it gets here.
//   - Weights are reordered into the primitives' layouts once, when the program is built.
//   - Every activation has a fixed place in one arena, planned from the values' lifetimes (the
//     largest first, each at the lowest offset free for its lifetime), so running allocates
//     nothing and peak memory is the planned arena, not the sum of the values.
// Built for the thread count of its creation (oneDNN splits the work then); run() refuses another.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lits::kernels {

// Applied in order to a convolution's result (bias included).
struct InferPost {
  enum class Kind { kAdd, kLeakyRelu, kAffine };
  Kind kind = Kind::kLeakyRelu;
  int value = -1;                   // kAdd: the value added (same shape as the result)
  float slope = 0.0f;               // kLeakyRelu: slope for x < 0
  std::vector<float> scale, shift;  // kAffine: y = x * scale[c] + shift[c]
};

struct InferConv {
  int64_t out_channels = 0, kernel = 1, stride = 1, pad = 0, dilation = 1;
  bool transposed = false;  // weight [in, out, k, k] (PyTorch's ConvTranspose2d), else [out, in, k, k]
  std::vector<float> weight, bias;
};

class InferProgram {
 public:
  // Whether this build has the program (it needs oneDNN); the constructor throws otherwise.
  static bool available();

  // Value 0 is the input [n, c, h, w], plain NCHW.
  InferProgram(int64_t n, int64_t c, int64_t h, int64_t w);
  ~InferProgram();
  InferProgram(const InferProgram&) = delete;
  InferProgram& operator=(const InferProgram&) = delete;

  // Each returns its result's value id.
  int conv(int src, InferConv conv, std::vector<InferPost> posts = {});
  int concat(const std::vector<int>& srcs);  // along channels
  int add(int a, int b);
  int max_pool(int src, int64_t kernel, int64_t stride, int64_t pad);
  int upsample_nearest2x(int src);
  // y = x * scale[c] + shift[c], in place: `src` must have no reader after this one.
  void affine_in_place(int src, std::vector<float> scale, std::vector<float> shift);

  // Plans the arena with `output` as the result (written to run()'s `out` as plain NCHW).
  void finish(int output);
  void run(const float* in, float* out);

  int64_t arena_bytes() const;    // the planned activations, after finish()
  int64_t weight_bytes() const;   // weights in their chosen layouts
  int64_t reorder_count() const;  // reorders between primitives (input and output included)
  // One line per primitive: kind, implementation, shapes (for `lits bench infer --verbose`).
  std::string describe() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lits::kernels
