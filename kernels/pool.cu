// CUDA max pooling and x2 nearest upsampling: grid-stride loops over the LITS_HD math of pool.h,
// one thread per output (forward) or per input pixel (backward: a gather, so no atomics and the
// same summation order as the CPU).
#include "kernels/cuda_launch.h"
#include "kernels/pool.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void max_pool_forward_kernel(const T* x, T* y, int32_t* argmax, PoolGeometry g, int64_t n) {
  LITS_GRID_STRIDE(i, n) max_pool_output(x, y, argmax, g, i);
}

template <typename T>
__global__ void max_pool_backward_kernel(const T* gy, const int32_t* argmax, T* gx, PoolGeometry g, int64_t n) {
  LITS_GRID_STRIDE(i, n) max_pool_input_grad(gy, argmax, gx, g, i);
}

template <typename T>
__global__ void upsample2x_forward_kernel(const T* x, T* y, int64_t in_h, int64_t in_w, int64_t n) {
  LITS_GRID_STRIDE(i, n) upsample2x_output(x, y, in_h, in_w, i);
}

template <typename T>
__global__ void upsample2x_backward_kernel(const T* gy, T* gx, int64_t in_h, int64_t in_w, int64_t n) {
  LITS_GRID_STRIDE(i, n) upsample2x_input_grad(gy, gx, in_h, in_w, i);
}

}  // namespace

template <typename T>
Status max_pool_forward_cuda(const T* x, T* y, int32_t* argmax, const PoolGeometry& g, Stream s) {
  const int64_t n = g.planes * g.out_h * g.out_w;
  max_pool_forward_kernel<<<grid_for(n), kBlock, 0, s>>>(x, y, argmax, g, n);
  return LITS_LAUNCH_STATUS("max_pool_forward_kernel");
}

template <typename T>
Status max_pool_backward_cuda(const T* gy, const int32_t* argmax, T* gx, const PoolGeometry& g, Stream s) {
  const int64_t n = g.planes * g.in_h * g.in_w;
  max_pool_backward_kernel<<<grid_for(n), kBlock, 0, s>>>(gy, argmax, gx, g, n);
  return LITS_LAUNCH_STATUS("max_pool_backward_kernel");
}

template <typename T>
Status upsample2x_forward_cuda(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w, Stream s) {
  const int64_t n = planes * 4 * in_h * in_w;
  upsample2x_forward_kernel<<<grid_for(n), kBlock, 0, s>>>(x, y, in_h, in_w, n);
  return LITS_LAUNCH_STATUS("upsample2x_forward_kernel");
}

template <typename T>
Status upsample2x_backward_cuda(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w, Stream s) {
  const int64_t n = planes * in_h * in_w;
  upsample2x_backward_kernel<<<grid_for(n), kBlock, 0, s>>>(gy, gx, in_h, in_w, n);
  return LITS_LAUNCH_STATUS("upsample2x_backward_kernel");
}

#define LITS_INSTANTIATE(T)                                                                             \
  template Status max_pool_forward_cuda<T>(const T*, T*, int32_t*, const PoolGeometry&, Stream);        \
  template Status max_pool_backward_cuda<T>(const T*, const int32_t*, T*, const PoolGeometry&, Stream); \
  template Status upsample2x_forward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t, Stream);          \
  template Status upsample2x_backward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
