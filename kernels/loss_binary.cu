// CUDA forward and backward of binary_pwce, weighted_binary_dice, focal_pwce and focal_dice. The
// forward is two launches: one block per (sample, chunk) accumulates the chunk in double and
// combines the threads' shares with a shared-memory tree, then a single block adds each sample's
// chunks in chunk order and the samples in sample order. No atomics, so a rerun gives the same
// bits; no host synchronisation. The backward is one grid-stride pass over the pixels.
#include "kernels/cuda_launch.h"
#include "kernels/loss_binary.h"

namespace lits::kernels {
namespace {

template <BinaryFocalLoss L, typename T>
__global__ void forward_partials_kernel(BinaryFocalArgs<T> a, double* partials, int64_t chunks) {
  __shared__ double buf[kBinaryFocalStats][kBlock];
  for (int64_t u = blockIdx.x; u < a.B * chunks; u += gridDim.x) {
    const int64_t b = u / chunks, n0 = (u % chunks) * kBinaryFocalChunk;
    const int64_t n1 = n0 + kBinaryFocalChunk < a.N ? n0 + kBinaryFocalChunk : a.N;
    double s[kBinaryFocalStats] = {};
    for (int64_t n = n0 + threadIdx.x; n < n1; n += blockDim.x) binary_focal_accumulate<L>(a, b, n, s);
    for (int k = 0; k < kBinaryFocalStats; ++k) buf[k][threadIdx.x] = s[k];
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w)
        for (int k = 0; k < kBinaryFocalStats; ++k) buf[k][threadIdx.x] += buf[k][threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0)
      for (int k = 0; k < kBinaryFocalStats; ++k) partials[u * kBinaryFocalStats + k] = buf[k][0];
    // The block reuses buf for its next chunk.
    __syncthreads();
  }
}

// One block: the per-sample sums (kept for the backward), then the loss from them.
template <BinaryFocalLoss L, typename T>
__global__ void forward_finish_kernel(BinaryFocalArgs<T> a, const double* partials, int64_t chunks, double* stats,
                                      T* loss) {
  for (int64_t b = threadIdx.x; b < a.B; b += blockDim.x) binary_focal_combine(partials, chunks, b, stats);
  // Makes every thread's stats writes visible to thread 0.
  __syncthreads();
  if (threadIdx.x == 0) loss[0] = static_cast<T>(binary_focal_loss_value<L>(a, stats));
}

template <BinaryFocalLoss L, typename T>
__global__ void backward_kernel(BinaryFocalArgs<T> a, const double* stats, const T* g, T* dp) {
  const double gv = static_cast<double>(g[0]);
  LITS_GRID_STRIDE(i, a.B * a.N) binary_focal_input_grad<L>(a, stats, gv, i / a.N, i % a.N, dp);
}

}  // namespace

template <typename T>
Status binary_focal_forward_cuda(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, double* partials, double* stats,
                                 T* loss, Stream stream) {
  const int64_t chunks = binary_focal_chunks(a.N);
  return with_binary_focal_loss(kind, [&](auto k) -> Status {
    constexpr BinaryFocalLoss L = decltype(k)::value;
    forward_partials_kernel<L><<<grid_for(a.B * chunks, 1), kBlock, 0, stream>>>(a, partials, chunks);
    const Status st = LITS_LAUNCH_STATUS("forward_partials_kernel");
    if (!st.ok()) return st;
    forward_finish_kernel<L><<<1, kBlock, 0, stream>>>(a, partials, chunks, stats, loss);
    return LITS_LAUNCH_STATUS("forward_finish_kernel");
  });
}

template <typename T>
Status binary_focal_backward_cuda(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, const double* stats, const T* g,
                                  T* dp, Stream stream) {
  return with_binary_focal_loss(kind, [&](auto k) -> Status {
    backward_kernel<decltype(k)::value><<<grid_for(a.B * a.N), kBlock, 0, stream>>>(a, stats, g, dp);
    return LITS_LAUNCH_STATUS("backward_kernel");
  });
}

#define LITS_INSTANTIATE(T)                                                                                          \
  template Status binary_focal_forward_cuda<T>(BinaryFocalLoss, const BinaryFocalArgs<T>&, double*, double*, T*,     \
                                               Stream);                                                              \
  template Status binary_focal_backward_cuda<T>(BinaryFocalLoss, const BinaryFocalArgs<T>&, const double*, const T*, \
                                                T*, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
