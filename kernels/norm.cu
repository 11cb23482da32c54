// CUDA GroupNorm and BatchNorm: one block per statistics set ((n, group) or channel), two-pass
// moments in double through a shared-memory tree, then the fused normalise + affine write.
// Per-channel parameter gradients: one block per channel. No atomics anywhere.
#include "kernels/cuda_launch.h"
#include "kernels/norm.h"

namespace lits::kernels {
namespace {

// Offset of element i of channel c's set in [N, C, HW] (i runs over n * HW + hw).
__device__ __forceinline__ int64_t channel_offset(int64_t i, int64_t c, int64_t C, int64_t HW) {
  return ((i / HW) * C + c) * HW + i % HW;
}

template <typename T>
__global__ void group_norm_forward_kernel(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t C,
                                          int64_t HW, int64_t G, double eps) {
  __shared__ double buf[kBlock];
  const int64_t ng = blockIdx.x, cg = C / G, len = cg * HW, base = ng * len, c0 = (ng % G) * cg;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) s += static_cast<double>(x[base + i]);
  const double m = block_sum(s, buf) / static_cast<double>(len);
  double q = 0.0;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
    const double d = static_cast<double>(x[base + i]) - m;
    q += d * d;
  }
  const double r = inverse_std(block_sum(q, buf) / static_cast<double>(len), eps);
  if (threadIdx.x == 0) {
    mean[ng] = static_cast<T>(m);
    rstd[ng] = static_cast<T>(r);
  }
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
    const int64_t c = c0 + i / HW;
    y[base + i] = static_cast<T>(norm_affine(static_cast<double>(x[base + i]), m, r, static_cast<double>(gamma[c]),
                                             static_cast<double>(beta[c])));
  }
}

template <typename T>
__global__ void group_norm_input_grad_kernel(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd,
                                             T* dx, int64_t C, int64_t HW, int64_t G) {
  __shared__ double buf[kBlock];
  const int64_t ng = blockIdx.x, cg = C / G, len = cg * HW, base = ng * len, c0 = (ng % G) * cg;
  const double m = static_cast<double>(mean[ng]), r = static_cast<double>(rstd[ng]);
  double s1 = 0.0, s2 = 0.0;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
    const double dxh = static_cast<double>(g[base + i]) * static_cast<double>(gamma[c0 + i / HW]);
    s1 += dxh;
    s2 += times_xhat(dxh, static_cast<double>(x[base + i]), m, r);
  }
  const double m1 = block_sum(s1, buf) / static_cast<double>(len);
  const double m2 = block_sum(s2, buf) / static_cast<double>(len);
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
    const double dxh = static_cast<double>(g[base + i]) * static_cast<double>(gamma[c0 + i / HW]);
    dx[base + i] = norm_input_grad<T>(dxh, norm_xhat(static_cast<double>(x[base + i]), m, r), m1, m2, r);
  }
}

// dgamma[c] = sum g * xhat, dbeta[c] = sum g over n and pixels; `group_of` maps (n, c) to the
// index of its mean/rstd (n * G + c / cg for GroupNorm, c for BatchNorm).
template <typename T, bool kGroup>
__global__ void affine_grad_kernel(const T* x, const T* g, const T* mean, const T* rstd, T* dgamma, T* dbeta, int64_t N,
                                   int64_t C, int64_t HW, int64_t G) {
  __shared__ double buf[kBlock];
  const int64_t c = blockIdx.x;
  double sg = 0.0, sgx = 0.0;
  for (int64_t i = threadIdx.x; i < N * HW; i += blockDim.x) {
    const int64_t k = channel_offset(i, c, C, HW);
    const int64_t stat = kGroup ? (i / HW) * G + c / (C / G) : c;
    const double gv = static_cast<double>(g[k]);
    sg += gv;
    sgx += times_xhat(gv, static_cast<double>(x[k]), static_cast<double>(mean[stat]), static_cast<double>(rstd[stat]));
  }
  sg = block_sum(sg, buf);
  sgx = block_sum(sgx, buf);
  if (threadIdx.x == 0) {
    if (dgamma) dgamma[c] = static_cast<T>(sgx);
    if (dbeta) dbeta[c] = static_cast<T>(sg);
  }
}

template <typename T>
__global__ void batch_norm_forward_kernel(const T* x, const T* gamma, const T* beta, T* y, bool training,
                                          const T* running_mean, const T* running_var, T* batch_mean, T* batch_var,
                                          T* rstd, int64_t N, int64_t C, int64_t HW, double eps) {
  __shared__ double buf[kBlock];
  const int64_t c = blockIdx.x, count = N * HW;
  double m, v;
  if (training) {
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += static_cast<double>(x[channel_offset(i, c, C, HW)]);
    m = block_sum(s, buf) / static_cast<double>(count);
    double q = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      const double d = static_cast<double>(x[channel_offset(i, c, C, HW)]) - m;
      q += d * d;
    }
    v = block_sum(q, buf) / static_cast<double>(count);
  } else {
    m = static_cast<double>(running_mean[c]);
    v = static_cast<double>(running_var[c]);
  }
  const double r = inverse_std(v, eps);
  if (threadIdx.x == 0) {
    rstd[c] = static_cast<T>(r);
    if (training) {
      batch_mean[c] = static_cast<T>(m);
      batch_var[c] = static_cast<T>(v);
    }
  }
  const double ga = static_cast<double>(gamma[c]), be = static_cast<double>(beta[c]);
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const int64_t k = channel_offset(i, c, C, HW);
    y[k] = static_cast<T>(norm_affine(static_cast<double>(x[k]), m, r, ga, be));
  }
}

template <typename T>
__global__ void batch_norm_backward_kernel(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx,
                                           T* dgamma, T* dbeta, bool training, int64_t N, int64_t C, int64_t HW) {
  __shared__ double buf[kBlock];
  const int64_t c = blockIdx.x, count = N * HW;
  const double m = static_cast<double>(mean[c]), r = static_cast<double>(rstd[c]), ga = static_cast<double>(gamma[c]);
  double sg = 0.0, sgx = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const int64_t k = channel_offset(i, c, C, HW);
    const double gv = static_cast<double>(g[k]);
    sg += gv;
    sgx += times_xhat(gv, static_cast<double>(x[k]), m, r);
  }
  sg = block_sum(sg, buf);
  sgx = block_sum(sgx, buf);
  if (threadIdx.x == 0) {
    if (dgamma) dgamma[c] = static_cast<T>(sgx);
    if (dbeta) dbeta[c] = static_cast<T>(sg);
  }
  if (!dx) return;
  const double m1 = training ? ga * sg / static_cast<double>(count) : 0.0;
  const double m2 = training ? ga * sgx / static_cast<double>(count) : 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const int64_t k = channel_offset(i, c, C, HW);
    dx[k] = norm_input_grad<T>(static_cast<double>(g[k]) * ga, norm_xhat(static_cast<double>(x[k]), m, r), m1, m2, r);
  }
}

// One block per (sample, group) or per channel. CUDA refuses a zero-size grid, so each launcher
// returns before launching when there is nothing to do, as the CPU twins' loops do.
unsigned blocks(int64_t n) { return static_cast<unsigned>(n); }

}  // namespace

template <typename T>
Status group_norm_forward_cuda(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                               int64_t HW, int64_t G, double eps, Stream s) {
  if (N * G == 0) return Status{};
  group_norm_forward_kernel<<<blocks(N * G), kBlock, 0, s>>>(x, gamma, beta, y, mean, rstd, C, HW, G, eps);
  return LITS_LAUNCH_STATUS("group_norm_forward_kernel");
}

template <typename T>
Status group_norm_backward_cuda(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                                T* dbeta, int64_t N, int64_t C, int64_t HW, int64_t G, Stream s) {
  if (dx && N * G > 0) {
    group_norm_input_grad_kernel<<<blocks(N * G), kBlock, 0, s>>>(x, g, gamma, mean, rstd, dx, C, HW, G);
    const Status st = LITS_LAUNCH_STATUS("group_norm_input_grad_kernel");
    if (!st.ok()) return st;
  }
  if ((dgamma || dbeta) && C > 0) {
    affine_grad_kernel<T, true><<<blocks(C), kBlock, 0, s>>>(x, g, mean, rstd, dgamma, dbeta, N, C, HW, G);
    return LITS_LAUNCH_STATUS("affine_grad_kernel");
  }
  return Status{};
}

template <typename T>
Status batch_norm_forward_cuda(const T* x, const T* gamma, const T* beta, T* y, bool training, const T* running_mean,
                               const T* running_var, T* batch_mean, T* batch_var, T* rstd, int64_t N, int64_t C,
                               int64_t HW, double eps, Stream s) {
  if (C == 0) return Status{};
  batch_norm_forward_kernel<<<blocks(C), kBlock, 0, s>>>(x, gamma, beta, y, training, running_mean, running_var,
                                                         batch_mean, batch_var, rstd, N, C, HW, eps);
  return LITS_LAUNCH_STATUS("batch_norm_forward_kernel");
}

template <typename T>
Status batch_norm_backward_cuda(const T* x, const T* g, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                                T* dbeta, bool training, int64_t N, int64_t C, int64_t HW, Stream s) {
  if (C == 0) return Status{};
  batch_norm_backward_kernel<<<blocks(C), kBlock, 0, s>>>(x, g, gamma, mean, rstd, dx, dgamma, dbeta, training, N, C,
                                                          HW);
  return LITS_LAUNCH_STATUS("batch_norm_backward_kernel");
}

#define LITS_INSTANTIATE(T)                                                                                          \
  template Status group_norm_forward_cuda<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t,    \
                                             int64_t, double, Stream);                                               \
  template Status group_norm_backward_cuda<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, \
                                              int64_t, int64_t, int64_t, Stream);                                    \
  template Status batch_norm_forward_cuda<T>(const T*, const T*, const T*, T*, bool, const T*, const T*, T*, T*, T*, \
                                             int64_t, int64_t, int64_t, double, Stream);                             \
  template Status batch_norm_backward_cuda<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, bool,    \
                                              int64_t, int64_t, int64_t, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
