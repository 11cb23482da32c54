// The reference's four secondary losses (docs/reference.md section 3.4), fused: binary_pwce,
// weighted_binary_dice, focal_pwce and focal_dice, on p [B, K, N] (N = H * W), target [B, N] and an
// optional weightmap [B, N]. The forward sums per-pixel terms in double over fixed chunks of one
// sample (one parallel iteration on the CPU, one block with a shared-memory tree on the GPU), then
// combines the chunks of each sample in chunk order and the samples in sample order: no atomics,
// and the result does not depend on the thread count. The per-sample sums are kept for the fused
// backward, which writes dp pixel by pixel. All the math is below, shared by loss_binary.cpp and .cu.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/common.h"
#include "kernels/loss_common.h"

namespace lits::kernels {

enum class BinaryFocalLoss { kBinaryPwce, kWeightedBinaryDice, kFocalPwce, kFocalDice };

template <typename T>
struct BinaryFocalArgs {
  const T* p = nullptr;             // [B, K, N] probabilities
  const int64_t* target = nullptr;  // [B, N] class indices in [0, K) ({0, 1} when K == 1)
  const T* w = nullptr;             // [B, N] weightmap; null: every pixel weight is 1
  int64_t B = 0, K = 1, N = 0;
  double alpha = 0.0;  // wmap_weight
  double eps = 1e-6;   // Dice smoothing, focal clamping
  double gamma = 1.5;  // focal exponent
};

// Pixels per forward chunk: a GPU block's share (8 per thread), small enough that B = 1 at
// 512 x 512 still fills the GPU with 128 blocks.
constexpr int64_t kBinaryFocalChunk = 2048;
// Sums kept per chunk and per sample; a loss uses the first few (see binary_focal_accumulate).
constexpr int kBinaryFocalStats = 3;

inline int64_t binary_focal_chunks(int64_t N) { return (N + kBinaryFocalChunk - 1) / kBinaryFocalChunk; }

// ---- per-pixel math ----

// PyTorch's BCELoss term: -(y log p + (1 - y) log(1 - p)) with each log clamped at -100, so p of
// exactly 0 or 1 gives a finite loss (and 0 * log 0 is 0, not NaN).
LITS_HD double bce_term(double p, double y) {
  const double lp = ::fmax(::log(p), -100.0), lq = ::fmax(::log(1.0 - p), -100.0);
  return -(y * lp + (1.0 - y) * lq);
}

// PyTorch's BCELoss backward, reproduced as it is: (p - y) / max(p (1 - p), 1e-12). It ignores the
// -100 clamp, so where the clamp is active (p = 0 or 1 against the wrong label) the gradient is
// +-1e12, not 0; where p equals its label it is 0.
LITS_HD double bce_grad(double p, double y) { return (p - y) / ::fmax((1.0 - p) * p, 1e-12); }

// PyTorch's clamp passes the gradient where lo <= v <= hi (the boundaries included) and blocks it
// strictly outside.
LITS_HD bool clamp_passes(double v, double lo, double hi) { return v >= lo && v <= hi; }
LITS_HD double clamp_to(double v, double lo, double hi) { return ::fmin(::fmax(v, lo), hi); }

// Focal term of the target channel, -log(pc) (1 - pc)^gamma, and its derivative in pc. The clamp
// pc in [eps, 1 - eps] keeps both finite (eps > 0 is checked by the op).
LITS_HD double focal_term(double pc, double gamma) { return -::log(pc) * ::pow(1.0 - pc, gamma); }
LITS_HD double focal_grad(double pc, double gamma) {
  const double q = 1.0 - pc;
  const double tail = gamma == 0.0 ? 0.0 : gamma * ::log(pc) * ::pow(q, gamma - 1.0);
  return -::pow(q, gamma) / pc + tail;
}

// Adds pixel (b, n)'s terms to s[kBinaryFocalStats]:
//   binary_pwce:          s0 = BCE * m
//   weighted_binary_dice: s0 = p y m, s1 = (1 - p)(1 - y) m, s2 = p + y
//   focal_pwce:           s0 = focal term of the target channel, s1 = m
//   focal_dice:           s0 = focal term of the target channel
// with m = (1 + w)^alpha. Only the target channel has t = 1, so the other channels add 0.
template <BinaryFocalLoss L, typename T>
LITS_HD void binary_focal_accumulate(const BinaryFocalArgs<T>& a, int64_t b, int64_t n, double* s) {
  const int64_t i = b * a.N + n;
  const int64_t y = a.target[i];
  if constexpr (L == BinaryFocalLoss::kBinaryPwce) {
    s[0] += bce_term(static_cast<double>(a.p[i]), static_cast<double>(y)) * pixel_weight(a.w, i, a.alpha);
  } else if constexpr (L == BinaryFocalLoss::kWeightedBinaryDice) {
    const double p = static_cast<double>(a.p[i]), yd = static_cast<double>(y), m = pixel_weight(a.w, i, a.alpha);
    s[0] += p * yd * m;
    s[1] += (1.0 - p) * (1.0 - yd) * m;
    s[2] += p + yd;
  } else {
    const double p = static_cast<double>(a.p[(b * a.K + y) * a.N + n]);
    s[0] += focal_term(clamp_to(p, a.eps, 1.0 - a.eps), a.gamma);
    if constexpr (L == BinaryFocalLoss::kFocalPwce) s[1] += pixel_weight(a.w, i, a.alpha);
  }
}

// ---- per-sample and whole-batch combination ----

// stats[b] = sum over the sample's chunks, in chunk order. partials: [B, chunks, kBinaryFocalStats];
// stats: [B, kBinaryFocalStats].
LITS_HD void binary_focal_combine(const double* partials, int64_t chunks, int64_t b, double* stats) {
  for (int k = 0; k < kBinaryFocalStats; ++k) {
    double acc = 0.0;
    for (int64_t c = 0; c < chunks; ++c) acc += partials[(b * chunks + c) * kBinaryFocalStats + k];
    stats[b * kBinaryFocalStats + k] = acc;
  }
}

// Dice ratios of one sample: r = 2 I / U with I = sum + eps and the foreground union U = sum p +
// sum y + eps shared by both terms (the reference's quirk). D = clamp(r, 1e-7, 0.9999).
struct DiceRatios {
  double r1, r0, U;
};
LITS_HD DiceRatios dice_ratios(const double* s, double eps) {
  const double U = s[2] + eps;
  return {2.0 * (s[0] + eps) / U, 2.0 * (s[1] + eps) / U, U};
}
constexpr double kDiceLo = 1e-7, kDiceHi = 0.9999;

// The loss is scale * sum_b binary_focal_sample_term(b):
//   binary_pwce:          mean over b, n of BCE m           -> s0,                  1 / (B N)
//   weighted_binary_dice: -mean_b D1 - mean_b D0            -> D1 + D0,             -1 / B
//   focal_pwce:           mean_b f_b mean_n m, the reference's per-sample degeneration of the
//                         pixel weights, f_b = s0 / (K N)   -> (s0 / (K N)) (s1 / N), 1 / B
//   focal_dice:           mean over b, c, n of the focal term (the reference computes a soft Dice
//                         and discards it)                  -> s0,                  1 / (B K N)
template <BinaryFocalLoss L, typename T>
LITS_HD double binary_focal_sample_term(const BinaryFocalArgs<T>& a, const double* s) {
  if constexpr (L == BinaryFocalLoss::kWeightedBinaryDice) {
    const DiceRatios d = dice_ratios(s, a.eps);
    return clamp_to(d.r1, kDiceLo, kDiceHi) + clamp_to(d.r0, kDiceLo, kDiceHi);
  } else if constexpr (L == BinaryFocalLoss::kFocalPwce) {
    return s[0] / static_cast<double>(a.K * a.N) * (s[1] / static_cast<double>(a.N));
  } else {
    return s[0];
  }
}

template <BinaryFocalLoss L, typename T>
LITS_HD double binary_focal_scale(const BinaryFocalArgs<T>& a) {
  const double B = static_cast<double>(a.B), N = static_cast<double>(a.N);
  if constexpr (L == BinaryFocalLoss::kBinaryPwce) {
    return 1.0 / (B * N);
  } else if constexpr (L == BinaryFocalLoss::kWeightedBinaryDice) {
    return -1.0 / B;
  } else if constexpr (L == BinaryFocalLoss::kFocalPwce) {
    return 1.0 / B;
  } else {
    return 1.0 / (B * static_cast<double>(a.K) * N);
  }
}

// The loss from the per-sample sums, adding the samples in order.
template <BinaryFocalLoss L, typename T>
LITS_HD double binary_focal_loss_value(const BinaryFocalArgs<T>& a, const double* stats) {
  double acc = 0.0;
  for (int64_t b = 0; b < a.B; ++b) acc += binary_focal_sample_term<L>(a, stats + b * kBinaryFocalStats);
  return acc * binary_focal_scale<L>(a);
}

// ---- backward: dp for pixel (b, n), all K channels, from the sample's sums and the upstream g ----
template <BinaryFocalLoss L, typename T>
LITS_HD void binary_focal_input_grad(const BinaryFocalArgs<T>& a, const double* stats, double g, int64_t b, int64_t n,
                                     T* dp) {
  const int64_t i = b * a.N + n;
  const int64_t y = a.target[i];
  const double c = g * binary_focal_scale<L>(a);
  if constexpr (L == BinaryFocalLoss::kBinaryPwce) {
    const double m = pixel_weight(a.w, i, a.alpha);
    dp[i] = static_cast<T>(c * m * bce_grad(static_cast<double>(a.p[i]), static_cast<double>(y)));
  } else if constexpr (L == BinaryFocalLoss::kWeightedBinaryDice) {
    // dU/dp = 1, dI1/dp = y m, dI0/dp = -(1 - y) m, so dr/dp = (2 dI/dp - r) / U per term.
    const DiceRatios d = dice_ratios(stats + b * kBinaryFocalStats, a.eps);
    const double m = pixel_weight(a.w, i, a.alpha), yd = static_cast<double>(y);
    double v = 0.0;
    if (clamp_passes(d.r1, kDiceLo, kDiceHi)) v += (2.0 * yd * m - d.r1) / d.U;
    if (clamp_passes(d.r0, kDiceLo, kDiceHi)) v += (-2.0 * (1.0 - yd) * m - d.r0) / d.U;
    dp[i] = static_cast<T>(c * v);
  } else {
    double f = c;
    if constexpr (L == BinaryFocalLoss::kFocalPwce) {
      const double* s = stats + b * kBinaryFocalStats;
      f *= s[1] / static_cast<double>(a.N) / static_cast<double>(a.K * a.N);
    }
    for (int64_t k = 0; k < a.K; ++k) {
      const int64_t j = (b * a.K + k) * a.N + n;
      double v = 0.0;
      if (k == y) {
        const double p = static_cast<double>(a.p[j]);
        if (clamp_passes(p, a.eps, 1.0 - a.eps)) v = f * focal_grad(p, a.gamma);
      }
      dp[j] = static_cast<T>(v);
    }
  }
}

// Calls f(std::integral_constant<BinaryFocalLoss, kind>{}), so a runtime kind reaches code
// specialised at compile time (host only).
template <typename F>
decltype(auto) with_binary_focal_loss(BinaryFocalLoss kind, F&& f) {
  using K = BinaryFocalLoss;
  switch (kind) {
    case K::kBinaryPwce: return f(std::integral_constant<K, K::kBinaryPwce>{});
    case K::kWeightedBinaryDice: return f(std::integral_constant<K, K::kWeightedBinaryDice>{});
    case K::kFocalPwce: return f(std::integral_constant<K, K::kFocalPwce>{});
    case K::kFocalDice: break;
  }
  return f(std::integral_constant<K, K::kFocalDice>{});
}

// ---- CPU (loss_binary.cpp); T = float or double ----
// partials: [B, binary_focal_chunks(N), kBinaryFocalStats] scratch; stats: [B, kBinaryFocalStats]
// per-sample sums (kept for the backward); loss: [1].
template <typename T>
void binary_focal_forward_cpu(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, double* partials, double* stats,
                              T* loss);
// g: [1] upstream gradient of the loss; dp: [B, K, N] (every element written).
template <typename T>
void binary_focal_backward_cpu(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, const double* stats, const T* g,
                               T* dp);

// ---- CUDA (loss_binary.cu), same contracts with device pointers, launched on `stream`; no host
// synchronisation (g is read on the device) ----
template <typename T>
Status binary_focal_forward_cuda(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, double* partials, double* stats,
                                 T* loss, Stream stream);
template <typename T>
Status binary_focal_backward_cuda(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, const double* stats, const T* g,
                                  T* dp, Stream stream);

}  // namespace lits::kernels
