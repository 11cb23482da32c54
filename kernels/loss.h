// The multiclass losses as fused kernels: multiclass_pwce, multiclass_dice, multiclass_combined
// (the reference's, section 3) and cross_entropy, dice_ce (on logits, beyond the reference).
// All are built from the same three steps:
//   1. stats: one pass over the pixels collecting, per sample b, the weighted cross-entropy sum
//      and, per (b, c), the soft-Dice sums I = sum d t, Sd = sum d, St = sum t (d is the input or
//      its softmax). In double, per fixed-size pixel chunk, combined in chunk order.
//   2. finalize: the scalar loss and the two backward coefficients from those sums (LITS_HD,
//      one thread on the GPU).
//   3. backward: one pass writing dL/dx per pixel from the sums, the coefficients and the
//      upstream gradient (a device scalar: no host round trip on the GPU).
// The cross-entropy term is CE applied to the op's input x, so multiclass_pwce (x = p, already
// softmaxed: the reference's double softmax) and cross_entropy (x = logits) share it.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"
#include "kernels/loss_common.h"

namespace lits::kernels {

constexpr int kMaxLossClasses = 16;

enum class LossKind { kCrossEntropy, kDice, kCombined, kDiceCe };

struct LossParams {
  LossKind kind = LossKind::kCrossEntropy;
  int64_t B = 0, K = 0, N = 0;                // x: [B, K, N]; target, weightmap: [B, N]
  double alpha = 0.0;                         // pixel weight (1 + w)^alpha
  double class_weight[kMaxLossClasses] = {};  // lambda_c (cross-entropy)
  double dice_weight[kMaxLossClasses] = {};   // omega_c (soft Dice)
  bool dice_softmax = false;                  // Dice on softmax(x) (dice_ce) instead of x
  int dice_first = 0;                         // first class in the Dice mean (1: foreground only)
  double dice_num_eps = 0.0;                  // D_bc = (2 omega I + num_eps) / (Sd + St + den_eps)
  double dice_den_eps = 0.0;
  bool want_ce = false, want_dice = false;
};

// Layout of the stats buffer (double): per sample b, `stride` values
// [ce_b, I_b0..I_bK-1, Sd_b0.., St_b0..], then [loss, coef_ce, coef_dice].
LITS_HD int64_t loss_stats_stride(int64_t K) { return 1 + 3 * K; }
LITS_HD int64_t loss_stats_size(int64_t B, int64_t K) { return B * loss_stats_stride(K) + 3; }

// Per pixel: softmax of x over classes (stable), q[c] for c < K.
template <typename T>
LITS_HD void loss_softmax(const T* x, int64_t K, int64_t N, double* q) {
  double m = static_cast<double>(x[0]);
  for (int64_t c = 1; c < K; ++c) m = ::fmax(m, static_cast<double>(x[c * N]));
  double s = 0.0;
  for (int64_t c = 0; c < K; ++c) {
    q[c] = ::exp(static_cast<double>(x[c * N]) - m);
    s += q[c];
  }
  for (int64_t c = 0; c < K; ++c) q[c] /= s;
}

// Adds pixel n of sample b (x points at x[b, 0, n]) to `acc` (stride values, see above).
template <typename T>
LITS_HD void loss_accumulate_pixel(const LossParams& p, const T* x, int64_t y, double m, double* acc) {
  double q[kMaxLossClasses];
  if (p.want_ce || p.dice_softmax) loss_softmax(x, p.K, p.N, q);
  if (p.want_ce) acc[0] += -p.class_weight[y] * ::log(q[y]) * m;
  if (p.want_dice) {
    for (int64_t c = p.dice_first; c < p.K; ++c) {
      const double d = p.dice_softmax ? q[c] : static_cast<double>(x[c * p.N]);
      const double t = c == y ? 1.0 : 0.0;
      acc[1 + c] += d * t;
      acc[1 + p.K + c] += d;
      acc[1 + 2 * p.K + c] += t;
    }
  }
}

// Loss and backward coefficients from the per-sample sums (stats[0 .. B * stride)).
LITS_HD void loss_finalize(const LossParams& p, double* stats) {
  const int64_t stride = loss_stats_stride(p.K);
  double ce = 0.0, dice = 0.0;
  for (int64_t b = 0; b < p.B; ++b) {
    const double* s = stats + b * stride;
    ce += s[0];
    for (int64_t c = p.dice_first; c < p.K; ++c) {
      const double u = s[1 + p.K + c] + s[1 + 2 * p.K + c] + p.dice_den_eps;
      dice += (2.0 * p.dice_weight[c] * s[1 + c] + p.dice_num_eps) / u;
    }
  }
  const double pixels = static_cast<double>(p.B * p.N);
  const double dice_terms = static_cast<double>(p.B * (p.K - p.dice_first));
  const double P = ce / pixels, D = p.want_dice ? dice / dice_terms : 0.0;
  double* out = stats + p.B * stride;
  // coef_ce multiplies dP_pixel = m lambda_y (q_c - [c == y]); coef_dice multiplies dD_bc/dd_c.
  switch (p.kind) {
    case LossKind::kCrossEntropy:
      out[0] = P;
      out[1] = 1.0 / pixels;
      out[2] = 0.0;
      break;
    case LossKind::kDice:
      out[0] = -D;
      out[1] = 0.0;
      out[2] = -1.0 / dice_terms;
      break;
    case LossKind::kCombined:  // P / D
      out[0] = P / D;
      out[1] = 1.0 / (pixels * D);
      out[2] = -P / (D * D) / dice_terms;
      break;
    case LossKind::kDiceCe:  // (P + 1 - D) / 2
      out[0] = 0.5 * (P + 1.0 - D);
      out[1] = 0.5 / pixels;
      out[2] = -0.5 / dice_terms;
      break;
  }
}

// dL/dx for pixel n of sample b: x, dx point at [b, 0, n]; s at the sample's stats; coef at the
// [loss, coef_ce, coef_dice] tail; g the upstream gradient.
template <typename T>
LITS_HD void loss_backward_pixel(const LossParams& p, const T* x, int64_t y, double m, const double* s,
                                 const double* coef, double g, T* dx) {
  double q[kMaxLossClasses], gd[kMaxLossClasses];
  if (p.want_ce || p.dice_softmax) loss_softmax(x, p.K, p.N, q);
  for (int64_t c = 0; c < p.K; ++c) gd[c] = 0.0;
  if (p.want_dice) {
    for (int64_t c = p.dice_first; c < p.K; ++c) {
      const double u = s[1 + p.K + c] + s[1 + 2 * p.K + c] + p.dice_den_eps;
      const double num = 2.0 * p.dice_weight[c] * s[1 + c] + p.dice_num_eps;
      const double t = c == y ? 1.0 : 0.0;
      gd[c] = coef[2] * (2.0 * p.dice_weight[c] * t * u - num) / (u * u);  // d D_bc / d d_c, scaled
    }
    if (p.dice_softmax) {  // through the softmax Jacobian: dq_c = q_c (g_c - sum_k g_k q_k)
      double dot = 0.0;
      for (int64_t c = 0; c < p.K; ++c) dot += gd[c] * q[c];
      for (int64_t c = 0; c < p.K; ++c) gd[c] = q[c] * (gd[c] - dot);
    }
  }
  for (int64_t c = 0; c < p.K; ++c) {
    double v = gd[c];
    if (p.want_ce) v += coef[1] * m * p.class_weight[y] * (q[c] - (c == y ? 1.0 : 0.0));
    dx[c * p.N] = static_cast<T>(g * v);
  }
}

// ---- CPU: x [B, K, N], target [B, N] int64, w [B, N] or null; stats [loss_stats_size] ----
// loss_out [1] receives the loss value.
template <typename T>
void loss_forward_cpu(const LossParams& p, const T* x, const int64_t* target, const T* w, double* stats, T* loss_out);
template <typename T>
void loss_backward_cpu(const LossParams& p, const T* x, const int64_t* target, const T* w, const double* stats,
                       double g, T* dx);
// ---- CUDA: stats in device memory; the upstream gradient g is a device scalar of type T ----
template <typename T>
Status loss_forward_cuda(const LossParams& p, const T* x, const int64_t* target, const T* w, double* stats,
                         double* scratch, T* loss_out, Stream s);
// Pixels per CUDA block in the stats pass, and the size (doubles) of the scratch buffer
// loss_forward_cuda needs: one partial-sum record per (sample, chunk). Inline so CPU-only builds,
// which never call the CUDA launcher, still compile the engine's dispatch code.
constexpr int64_t kLossCudaChunk = 16 * 256;
inline int64_t loss_forward_cuda_scratch(const LossParams& p) {
  return p.B * ((p.N + kLossCudaChunk - 1) / kLossCudaChunk) * loss_stats_stride(p.K);
}
template <typename T>
Status loss_backward_cuda(const LossParams& p, const T* x, const int64_t* target, const T* w, const double* stats,
                          const T* g, T* dx, Stream s);

}  // namespace lits::kernels
