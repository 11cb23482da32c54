// CUDA global average pooling and channel scaling. Plane sums take one block per plane: each
// thread accumulates a strided share in double, then a shared-memory tree combines the shares in
// a fixed order (no atomics, so a rerun gives the same bits). Broadcasts are grid-stride loops.
#include "kernels/cuda_launch.h"
#include "kernels/squeeze_excite.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void avg_pool_forward_kernel(const T* x, T* y, int64_t planes, int64_t S) {
  __shared__ double buf[kBlock];
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const T* xp = x + p * S;
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < S; i += blockDim.x) acc += static_cast<double>(xp[i]);
    const double total = block_sum(acc, buf);
    if (threadIdx.x == 0) y[p] = plane_mean<T>(total, S);
  }
}

template <typename T>
__global__ void avg_pool_backward_kernel(const T* gy, T* gx, int64_t S, int64_t n) {
  LITS_GRID_STRIDE(i, n) avg_pool_input_grad_at(gy, gx, S, i);
}

template <typename T>
__global__ void channel_scale_kernel(const T* x, const T* s, T* y, int64_t S, int64_t n) {
  LITS_GRID_STRIDE(i, n) channel_scale_at(x, s, y, S, i);
}

// gs always, gx too when non-null: both read the same g, so one pass serves both.
template <typename T>
__global__ void channel_scale_backward_kernel(const T* g, const T* x, const T* s, T* gx, T* gs, int64_t planes,
                                              int64_t S) {
  __shared__ double buf[kBlock];
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    double acc = 0.0;
    for (int64_t i = p * S + threadIdx.x; i < (p + 1) * S; i += blockDim.x) {
      if (gx) channel_scale_at(g, s, gx, S, i);
      acc += scale_grad_term(g[i], x[i]);
    }
    const double total = block_sum(acc, buf);
    if (threadIdx.x == 0) gs[p] = static_cast<T>(total);
  }
}

// One block per plane, capped; the kernels loop over the remaining planes.
unsigned plane_blocks(int64_t planes) { return grid_for(planes, 1); }

}  // namespace

template <typename T>
Status global_avg_pool_forward_cuda(const T* x, T* y, int64_t planes, int64_t S, Stream stream) {
  avg_pool_forward_kernel<<<plane_blocks(planes), kBlock, 0, stream>>>(x, y, planes, S);
  return LITS_LAUNCH_STATUS("avg_pool_forward_kernel");
}

template <typename T>
Status global_avg_pool_backward_cuda(const T* gy, T* gx, int64_t planes, int64_t S, Stream stream) {
  avg_pool_backward_kernel<<<grid_for(planes * S), kBlock, 0, stream>>>(gy, gx, S, planes * S);
  return LITS_LAUNCH_STATUS("avg_pool_backward_kernel");
}

template <typename T>
Status channel_scale_forward_cuda(const T* x, const T* s, T* y, int64_t planes, int64_t S, Stream stream) {
  channel_scale_kernel<<<grid_for(planes * S), kBlock, 0, stream>>>(x, s, y, S, planes * S);
  return LITS_LAUNCH_STATUS("channel_scale_kernel");
}

template <typename T>
Status channel_scale_backward_cuda(const T* g, const T* x, const T* s, T* gx, T* gs, int64_t planes, int64_t S,
                                   Stream stream) {
  if (!gs) {
    // Only gx: a plain broadcast product, which the elementwise layout runs faster.
    if (gx) channel_scale_kernel<<<grid_for(planes * S), kBlock, 0, stream>>>(g, s, gx, S, planes * S);
    return LITS_LAUNCH_STATUS("channel_scale_kernel");
  }
  channel_scale_backward_kernel<<<plane_blocks(planes), kBlock, 0, stream>>>(g, x, s, gx, gs, planes, S);
  return LITS_LAUNCH_STATUS("channel_scale_backward_kernel");
}

#define LITS_INSTANTIATE(T)                                                                        \
  template Status global_avg_pool_forward_cuda<T>(const T*, T*, int64_t, int64_t, Stream);         \
  template Status global_avg_pool_backward_cuda<T>(const T*, T*, int64_t, int64_t, Stream);        \
  template Status channel_scale_forward_cuda<T>(const T*, const T*, T*, int64_t, int64_t, Stream); \
  template Status channel_scale_backward_cuda<T>(const T*, const T*, const T*, T*, T*, int64_t, int64_t, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
