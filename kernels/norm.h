// Batch and group normalisation on [N, C, HW] tensors, forward and backward, fused.
//   GroupNorm: statistics per (n, group) over the group's C/G channels and all pixels (a
//   contiguous block in NCHW); per-channel affine.
//   BatchNorm: statistics per channel over N and all pixels (training), or the running
//   statistics (evaluation); per-channel affine.
// Statistics are computed in double with two passes (mean, then squared deviations); every
// reduction is a per-output loop or a shared-memory tree: deterministic, no atomics.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

// Input gradient of a normalisation over a set of M elements, from the set's means of
// dxhat = g * gamma and of dxhat * xhat:  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
template <typename T>
LITS_HD T norm_input_grad(double dxhat, double xhat, double mean_dxhat, double mean_dxhat_xhat, double rstd) {
  return static_cast<T>(rstd * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat));
}

LITS_HD double inverse_std(double var, double eps) { return 1.0 / ::sqrt(var + eps); }

// The normalisation's arithmetic, written once for the CPU and CUDA kernels and always in this order (the
// CPU twins and the kernels round alike): xhat = (x - mean) * rstd; the output xhat * gamma + beta; and a
// term a * (x - mean) * rstd of the sums of g * xhat and dxhat * xhat.
LITS_HD double norm_xhat(double x, double mean, double rstd) { return (x - mean) * rstd; }
LITS_HD double norm_affine(double x, double mean, double rstd, double gamma, double beta) {
  return (x - mean) * rstd * gamma + beta;
}
LITS_HD double times_xhat(double a, double x, double mean, double rstd) { return a * (x - mean) * rstd; }

// ---- GroupNorm (x, y, g, dx: [N, C, HW]; gamma, beta, dgamma, dbeta: [C]; mean, rstd: [N, G]) ----
template <typename T>
void group_norm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                            int64_t HW, int64_t G, double eps);
// Any of dx, dgamma, dbeta may be null (not needed).
template <typename T>
void group_norm_backward_cpu(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                             T* dbeta, int64_t N, int64_t C, int64_t HW, int64_t G);
template <typename T>
Status group_norm_forward_cuda(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                               int64_t HW, int64_t G, double eps, Stream s);
template <typename T>
Status group_norm_backward_cuda(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                                T* dbeta, int64_t N, int64_t C, int64_t HW, int64_t G, Stream s);

// ---- BatchNorm (x, y, g, dx: [N, C, HW]; per-channel vectors [C]) ----
// training: batch statistics -> batch_mean, batch_var (biased) and rstd; evaluation: reads
// running_mean / running_var and writes rstd. The unused pointers may be null.
template <typename T>
void batch_norm_forward_cpu(const T* x, const T* gamma, const T* beta, T* y, bool training, const T* running_mean,
                            const T* running_var, T* batch_mean, T* batch_var, T* rstd, int64_t N, int64_t C,
                            int64_t HW, double eps);
// `mean` is the mean used in the forward (batch or running). Any of dx, dgamma, dbeta may be null.
template <typename T>
void batch_norm_backward_cpu(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                             T* dbeta, bool training, int64_t N, int64_t C, int64_t HW);
template <typename T>
Status batch_norm_forward_cuda(const T* x, const T* gamma, const T* beta, T* y, bool training, const T* running_mean,
                               const T* running_var, T* batch_mean, T* batch_var, T* rstd, int64_t N, int64_t C,
                               int64_t HW, double eps, Stream s);
template <typename T>
Status batch_norm_backward_cuda(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                                T* dbeta, bool training, int64_t N, int64_t C, int64_t HW, Stream s);

}  // namespace lits::kernels
