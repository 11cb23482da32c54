// CUDA dropout2d: grid-stride loops over the LITS_HD math of dropout.h (the Philox draw is pure
// integer math, so the mask matches the CPU bit for bit).
#include "kernels/cuda_launch.h"
#include "kernels/dropout.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void dropout_mask_kernel(T* mask, int64_t channels, double p, T keep_scale, uint64_t seed, uint64_t offset) {
  LITS_GRID_STRIDE(j, channels) mask[j] = dropout_channel_factor(seed, offset + j, p, keep_scale);
}

template <typename T>
__global__ void dropout_apply_kernel(const T* x, const T* mask, T* y, int64_t S, int64_t n) {
  LITS_GRID_STRIDE(i, n) dropout_apply_at(x, mask, y, S, i);
}

}  // namespace

template <typename T>
Status dropout_mask_cuda(T* mask, int64_t channels, double p, T keep_scale, uint64_t seed, uint64_t offset, Stream s) {
  dropout_mask_kernel<<<grid_for(channels), kBlock, 0, s>>>(mask, channels, p, keep_scale, seed, offset);
  return LITS_LAUNCH_STATUS("dropout_mask_kernel");
}

template <typename T>
Status dropout_apply_cuda(const T* x, const T* mask, T* y, int64_t channels, int64_t S, Stream s) {
  const int64_t n = channels * S;
  dropout_apply_kernel<<<grid_for(n), kBlock, 0, s>>>(x, mask, y, S, n);
  return LITS_LAUNCH_STATUS("dropout_apply_kernel");
}

#define LITS_INSTANTIATE(T)                                                                 \
  template Status dropout_mask_cuda<T>(T*, int64_t, double, T, uint64_t, uint64_t, Stream); \
  template Status dropout_apply_cuda<T>(const T*, const T*, T*, int64_t, int64_t, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
