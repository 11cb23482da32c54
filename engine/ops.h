// The differentiable op API. Every op checks its inputs (dtype float32/float64, one device,
// shapes) and throws lits::Error naming the op, the shapes/devices involved and what it expected;
// dispatches to the CPU or CUDA kernel; and, when grad mode is on and an input requires grad,
// records its backward. Each op's name is in engine/op_registry.cpp, which the tests use to demand
// a float64 gradient check and a CUDA parity case for every one.
#pragma once

#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace lits {

// ---- arithmetic with broadcasting (numpy rules: trailing dims aligned, size 1 stretches) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double factor);  // x * factor
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator*(const Tensor& x, double f) { return scale(x, f); }
// The shape `a` and `b` broadcast to; throws naming both shapes when they do not.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- activations and pointwise maps ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope);
Tensor sigmoid(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
// Softmax over dim 1 (the channels of [N, C, ...]); x needs at least 2 dims.
Tensor softmax(const Tensor& x);

// ---- reductions ----
Tensor sum(const Tensor& x);  // all elements -> shape []
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// Sums a broadcast result back to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- shape ops ----
Tensor reshape(const Tensor& x, const Shape& shape);                     // a view when x is contiguous
Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length);  // always a view
Tensor contiguous(const Tensor& x);                                      // x itself when already contiguous
Tensor concat(const std::vector<Tensor>& xs, int dim = 1);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim = 1);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);  // [M, K] x [K, N]
// x [N, in], weight [out, in], bias [out] (may be undefined) -> x weight^T + bias
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- convolutions (weights in PyTorch layouts) ----
struct ConvParams {
  int64_t stride = 1;
  int64_t padding = 0;  // symmetric, in input pixels
  int64_t dilation = 1;
};
// x [N, Cin, H, W], weight [Cout, Cin, k, k], bias [Cout] or undefined ->
// [N, Cout, (H + 2p - d(k-1) - 1)/s + 1, ...].
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& params);
// x [N, Cin, H, W], weight [Cin, Cout, k, k], bias [Cout] or undefined ->
// [N, Cout, (H-1)s - 2p + d(k-1) + 1, ...] (no output padding).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& params);

// cuDNN backward algorithms restricted to deterministic ones (off by default: fastest). The CPU
// kernels are always deterministic.
void set_deterministic_algorithms(bool on);
bool deterministic_algorithms();

// Math of float32 convolutions and matmul/linear (docs/gpu-fast-path.md, "Precision"), for the
// whole process: fp32 (the default), tf32 (operands rounded to TF32, float32 accumulation: tensor
// cores on the GPU) or bf16 (autocast: operands, and a convolution's product, rounded to bfloat16;
// float32 accumulation, weights and everything else float32). The CPU computes the same rounding
// in float32 (the twin, slower than fp32); float64 ops ignore it.
enum class Precision { kFp32, kTf32, kBf16 };
void set_precision(Precision p);
Precision precision();
const char* precision_name(Precision p);  // "fp32", "tf32", "bf16"
// "fp32", "tf32" or "bf16"; otherwise throws naming `what` (a key or a flag) and the choices.
Precision parse_precision(const std::string& text, const std::string& what);
// Sets a precision for a scope, restoring the previous one at its end.
class PrecisionGuard {
 public:
  explicit PrecisionGuard(Precision p) : saved_(precision()) { set_precision(p); }
  ~PrecisionGuard() { set_precision(saved_); }
  PrecisionGuard(const PrecisionGuard&) = delete;
  PrecisionGuard& operator=(const PrecisionGuard&) = delete;

 private:
  Precision saved_;
};

// ---- normalisation ----
// x [N, C, H, W]; gamma, beta [C]. Training: normalises with the batch statistics and updates
// running_mean / running_var in place (momentum, unbiased variance, as PyTorch); evaluation:
// normalises with the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps);
// x [N, C, H, W] with C divisible by `groups`; gamma, beta [C].
Tensor group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps);

// ---- pooling, resampling, dropout, squeeze-excitation pieces ----
// Max over k x k windows with stride s and padding p (padding never wins); the backward routes
// each gradient to the saved argmax of its window.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
// Nearest-neighbour upsampling x2: [N, C, H, W] -> [N, C, 2H, 2W].
Tensor upsample_nearest2x(const Tensor& x);
// Dropout2d: in training, zeroes whole channels (n, c) with probability p and scales the others by
// 1/(1-p); identity otherwise. Channel (n, c) uses Philox counter offset + n*C + c of `gen`, so the
// CPU and CUDA masks are the same for the same generator state.
Tensor dropout2d(const Tensor& x, double p, bool training, Generator& gen = default_generator());
// Squeeze: mean over H and W, [N, C, H, W] -> [N, C].
Tensor global_avg_pool(const Tensor& x);
// Excite: x [N, C, H, W] scaled by s [N, C] per sample and channel.
Tensor channel_scale(const Tensor& x, const Tensor& s);

// ---- losses (docs/reference.md section 3; every one a fused forward and backward) ----
// p: probabilities [B, K, H, W] (after softmax, or sigmoid for K = 1); logits: raw outputs;
// target: int64 [B, H, W] class indices in [0, K) ({0, 1} for the binary losses); weightmap:
// [B, H, W] of p's dtype, or undefined for no pixel weighting. Each returns a scalar (shape []).
struct LossOptions {
  double wmap_weight = 0.0;           // alpha: pixels weighted by (1 + w)^alpha
  std::vector<double> class_weights;  // lambda_c in the cross-entropy terms (empty: all 1)
  std::vector<double> weight_score;   // omega_c in the multiclass soft Dice (empty: all 1)
  double epsilon = 1e-6;              // Dice smoothing, focal clamping
  double focal_gamma = 1.5;           // focal exponent
};
// Cross-entropy applied to p as if p were logits (the reference's double softmax), class and
// pixel weighted, mean over B*H*W.
Tensor multiclass_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
// -mean_b mean_c 2 omega_c I_bc / (sum p + sum t + eps)   (in [-1, 0])
Tensor multiclass_dice(const Tensor& p, const Tensor& target, const LossOptions& o);
// multiclass_pwce / soft Dice (a ratio, as the reference).
Tensor multiclass_combined(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
// Pixel-weighted binary cross-entropy on p [B, 1, H, W].
Tensor binary_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
// The reference's weighted binary Dice (foreground and background terms sharing the foreground union).
Tensor weighted_binary_dice(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
// Focal terms on p [B, K, H, W] clamped to [eps, 1 - eps] (the reference's quirks, section 3.4).
Tensor focal_pwce(const Tensor& p, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
Tensor focal_dice(const Tensor& p, const Tensor& target, const LossOptions& o);
// Beyond the reference: cross-entropy on logits (no double softmax), class and pixel weighted.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weightmap, const LossOptions& o);
// nnU-Net's Dice + CE: (cross_entropy(logits) + 1 - D) / 2 with D the soft Dice of softmax(logits)
// over the foreground classes 1..K-1, D_bc = (2 I + eps) / (sum q + sum t + eps), mean over b, c.
Tensor dice_ce(const Tensor& logits, const Tensor& target, const Tensor& weightmap, const LossOptions& o);

// ---- initialisation: new tensors (no autograd history) ----
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen = default_generator(),
               DType dtype = DType::kFloat32, Device device = Device::cpu());
Tensor normal(const Shape& shape, double mean, double std, Generator& gen = default_generator(),
              DType dtype = DType::kFloat32, Device device = Device::cpu());

}  // namespace lits
