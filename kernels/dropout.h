// Dropout2d: a per-channel mask of scale factors (0 for a dropped channel, 1/(1-p) for a kept
// one) drawn with Philox, and its application to contiguous [N, C, S] tensors (S = H * W). The
// backward applies the same mask to the gradient. Channel j of the mask uses counter offset + j,
// so the CPU and CUDA masks are identical for the same generator state.
#pragma once

#include <cstdint>

#include "kernels/common.h"
#include "kernels/philox.h"

namespace lits::kernels {

// Channel kept iff its draw u in [0, 1) is >= p, so P(kept) = 1 - p. The draw is the float32
// uniform at that counter whatever T is, and the comparison is in double (exact for both), so
// float32 and float64 tensors get the same mask from the same generator state.
template <typename T>
LITS_HD T dropout_channel_factor(uint64_t seed, uint64_t counter, double p, T keep_scale) {
  const float u = philox_unit_float(philox_draw(seed, counter).v[0]);
  return static_cast<double>(u) >= p ? keep_scale : T(0);
}

// y[i] = x[i] * mask[i / S]: the same product for the forward (x) and the backward (gradient).
template <typename T>
LITS_HD void dropout_apply_at(const T* x, const T* mask, T* y, int64_t S, int64_t i) {
  y[i] = x[i] * mask[i / S];
}

// ---- CPU (dropout.cpp); T = float or double ----
// mask: [channels] (N * C); keep_scale is 1/(1-p) rounded to T by the caller
template <typename T>
void dropout_mask_cpu(T* mask, int64_t channels, double p, T keep_scale, uint64_t seed, uint64_t offset);
// x, y: [channels, S] contiguous; mask: [channels]
template <typename T>
void dropout_apply_cpu(const T* x, const T* mask, T* y, int64_t channels, int64_t S);

// ---- CUDA (dropout.cu), same contracts, launched on `s` ----
template <typename T>
Status dropout_mask_cuda(T* mask, int64_t channels, double p, T keep_scale, uint64_t seed, uint64_t offset, Stream s);
template <typename T>
Status dropout_apply_cuda(const T* x, const T* mask, T* y, int64_t channels, int64_t S, Stream s);

}  // namespace lits::kernels
