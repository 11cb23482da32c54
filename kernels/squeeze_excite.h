// The two halves of a squeeze-excitation block on contiguous tensors seen as [planes, S]
// (planes = N * C, S = H * W): global average pooling [N, C, H, W] -> [N, C] and per-channel
// scaling x [N, C, H, W] * s [N, C]. Plane sums run in double for float and double (like
// kernels/reduce.*), in a fixed order: sequential on the CPU, one block per plane with a
// shared-memory tree on the GPU (no atomics). The per-element math is below, shared by
// squeeze_excite.cpp and .cu.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

// The division is in double on both devices, so the mean rounds the same way everywhere.
template <typename T>
LITS_HD T plane_mean(double sum, int64_t S) {
  return static_cast<T>(sum / static_cast<double>(S));
}

// Every pixel of plane i / S receives g / S.
template <typename T>
LITS_HD void avg_pool_input_grad_at(const T* gy, T* gx, int64_t S, int64_t i) {
  gx[i] = static_cast<T>(static_cast<double>(gy[i / S]) / static_cast<double>(S));
}

// y[i] = x[i] * s[i / S]; also the input gradient of the scaling (g in place of x).
template <typename T>
LITS_HD void channel_scale_at(const T* x, const T* s, T* y, int64_t S, int64_t i) {
  y[i] = x[i] * s[i / S];
}

// One term of gs = sum over the plane of g * x. For float the double product is exact, so
// contraction into an FMA on the GPU cannot change it.
template <typename T>
LITS_HD double scale_grad_term(T g, T x) {
  return static_cast<double>(g) * static_cast<double>(x);
}

// ---- CPU (squeeze_excite.cpp); T = float or double ----
// x: [planes, S]; y: [planes]
template <typename T>
void global_avg_pool_forward_cpu(const T* x, T* y, int64_t planes, int64_t S);
// gy: [planes]; gx: [planes, S]
template <typename T>
void global_avg_pool_backward_cpu(const T* gy, T* gx, int64_t planes, int64_t S);
// x, y: [planes, S]; s: [planes]
template <typename T>
void channel_scale_forward_cpu(const T* x, const T* s, T* y, int64_t planes, int64_t S);
// g, x: [planes, S]; s: [planes]. gx: [planes, S] = g * s, skipped when null (s may then be
// null); gs: [planes] = sum over S of g * x, skipped when null (x may then be null).
template <typename T>
void channel_scale_backward_cpu(const T* g, const T* x, const T* s, T* gx, T* gs, int64_t planes, int64_t S);

// ---- CUDA (squeeze_excite.cu), same contracts, launched on `stream` ----
template <typename T>
Status global_avg_pool_forward_cuda(const T* x, T* y, int64_t planes, int64_t S, Stream stream);
template <typename T>
Status global_avg_pool_backward_cuda(const T* gy, T* gx, int64_t planes, int64_t S, Stream stream);
template <typename T>
Status channel_scale_forward_cuda(const T* x, const T* s, T* y, int64_t planes, int64_t S, Stream stream);
template <typename T>
Status channel_scale_backward_cuda(const T* g, const T* x, const T* s, T* gx, T* gs, int64_t planes, int64_t S,
                                   Stream stream);

}  // namespace lits::kernels
