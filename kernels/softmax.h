// Softmax over the channel axis of a contiguous [N, C, S] tensor (S = product of the trailing
// dims, 1 for [N, C]). Numerically stable (max subtracted); backward from the saved output:
// dx_c = y_c * (g_c - sum_k g_k y_k).
#pragma once

#include <cstdint>

#include "kernels/common.h"
#include "kernels/elementwise.h"

namespace lits::kernels {

// One (n, s) column: x, y strided by `stride` (= S) over C channels.
template <typename T>
LITS_HD void softmax_column(const T* x, T* y, int64_t C, int64_t stride) {
  T m = x[0];
  for (int64_t c = 1; c < C; ++c) m = x[c * stride] > m ? x[c * stride] : m;
  T total = T(0);
  for (int64_t c = 0; c < C; ++c) {
    const T e = math_exp(x[c * stride] - m);
    y[c * stride] = e;
    total += e;
  }
  const T inv = T(1) / total;
  for (int64_t c = 0; c < C; ++c) y[c * stride] *= inv;
}

template <typename T>
LITS_HD void softmax_backward_column(const T* y, const T* g, T* gx, int64_t C, int64_t stride) {
  T dot = T(0);
  for (int64_t c = 0; c < C; ++c) dot += g[c * stride] * y[c * stride];
  for (int64_t c = 0; c < C; ++c) gx[c * stride] = y[c * stride] * (g[c * stride] - dot);
}

// x, y, g, gx: [N, C, S] contiguous
template <typename T>
void softmax_forward_cpu(const T* x, T* y, int64_t N, int64_t C, int64_t S);
template <typename T>
void softmax_backward_cpu(const T* y, const T* g, T* gx, int64_t N, int64_t C, int64_t S);
template <typename T>
Status softmax_forward_cuda(const T* x, T* y, int64_t N, int64_t C, int64_t S, Stream s);
template <typename T>
Status softmax_backward_cuda(const T* y, const T* g, T* gx, int64_t N, int64_t C, int64_t S, Stream s);

}  // namespace lits::kernels
