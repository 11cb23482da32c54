// CUDA channel softmax: one thread per (n, s) column; neighbouring threads read neighbouring s,
// so every channel plane is read coalesced.
#include "kernels/cuda_launch.h"
#include "kernels/softmax.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void softmax_forward_kernel(const T* x, T* y, int64_t C, int64_t S, int64_t n) {
  LITS_GRID_STRIDE(i, n) {
    const int64_t base = (i / S) * C * S + i % S;
    softmax_column(x + base, y + base, C, S);
  }
}

template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, int64_t C, int64_t S, int64_t n) {
  LITS_GRID_STRIDE(i, n) {
    const int64_t base = (i / S) * C * S + i % S;
    softmax_backward_column(y + base, g + base, gx + base, C, S);
  }
}

}  // namespace

template <typename T>
Status softmax_forward_cuda(const T* x, T* y, int64_t N, int64_t C, int64_t S, Stream s) {
  softmax_forward_kernel<<<grid_for(N * S), kBlock, 0, s>>>(x, y, C, S, N * S);
  return LITS_LAUNCH_STATUS("softmax_forward_kernel");
}

template <typename T>
Status softmax_backward_cuda(const T* y, const T* g, T* gx, int64_t N, int64_t C, int64_t S, Stream s) {
  softmax_backward_kernel<<<grid_for(N * S), kBlock, 0, s>>>(y, g, gx, C, S, N * S);
  return LITS_LAUNCH_STATUS("softmax_backward_kernel");
}

template Status softmax_forward_cuda<float>(const float*, float*, int64_t, int64_t, int64_t, Stream);
template Status softmax_forward_cuda<double>(const double*, double*, int64_t, int64_t, int64_t, Stream);
template Status softmax_backward_cuda<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, Stream);
template Status softmax_backward_cuda<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, Stream);

}  // namespace lits::kernels
