// CUDA multiclass losses: (1) per (chunk, sample) block partial sums through a shared-memory
// tree, (2) per-sample reduction of the chunks in order, (3) a one-thread finalize; the backward
// is one grid-stride pass reading the upstream gradient from device memory. No atomics.
#include "kernels/cuda_launch.h"
#include "kernels/loss.h"

namespace lits::kernels {
namespace {

constexpr int64_t kChunk = kLossCudaChunk;
static_assert(kChunk % kBlock == 0, "a chunk is a whole number of block strides");

int64_t chunks_of(const LossParams& p) { return (p.N + kChunk - 1) / kChunk; }

// grid (chunks, B): partial[(b * chunks + chunk) * stride + v]
template <typename T>
__global__ void loss_partial_kernel(LossParams p, const T* x, const int64_t* target, const T* w, double* partial) {
  __shared__ double buf[kBlock];
  const int64_t b = blockIdx.y, chunk = blockIdx.x, stride = loss_stats_stride(p.K);
  double acc[1 + 3 * kMaxLossClasses];
  for (int64_t v = 0; v < stride; ++v) acc[v] = 0.0;
  const int64_t n1 = min(p.N, (chunk + 1) * kChunk);
  for (int64_t n = chunk * kChunk + threadIdx.x; n < n1; n += blockDim.x) {
    const int64_t i = b * p.N + n;
    loss_accumulate_pixel(p, x + b * p.K * p.N + n, target[i], pixel_weight(w, i, p.alpha), acc);
  }
  double* out = partial + (b * gridDim.x + chunk) * stride;
  for (int64_t v = 0; v < stride; ++v) {
    const double total = block_sum(acc[v], buf);
    if (threadIdx.x == 0) out[v] = total;
  }
}

// One thread per (b, v): chunks summed in order.
__global__ void loss_reduce_kernel(LossParams p, const double* partial, int64_t chunks, double* stats) {
  const int64_t stride = loss_stats_stride(p.K);
  LITS_GRID_STRIDE(i, p.B * stride) {
    const int64_t b = i / stride, v = i % stride;
    double s = 0.0;
    for (int64_t k = 0; k < chunks; ++k) s += partial[(b * chunks + k) * stride + v];
    stats[i] = s;
  }
}

template <typename T>
__global__ void loss_finalize_kernel(LossParams p, double* stats, T* loss_out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    loss_finalize(p, stats);
    loss_out[0] = static_cast<T>(stats[p.B * loss_stats_stride(p.K)]);
  }
}

template <typename T>
__global__ void loss_backward_kernel(LossParams p, const T* x, const int64_t* target, const T* w, const double* stats,
                                     const T* g, T* dx) {
  const int64_t stride = loss_stats_stride(p.K);
  const double* coef = stats + p.B * stride;
  const double gv = static_cast<double>(g[0]);
  LITS_GRID_STRIDE(i, p.B * p.N) {
    const int64_t b = i / p.N, n = i % p.N;
    const int64_t off = b * p.K * p.N + n;
    loss_backward_pixel(p, x + off, target[i], pixel_weight(w, i, p.alpha), stats + b * stride, coef, gv, dx + off);
  }
}

}  // namespace

template <typename T>
Status loss_forward_cuda(const LossParams& p, const T* x, const int64_t* target, const T* w, double* stats,
                         double* scratch, T* loss_out, Stream s) {
  // The engine refuses empty input first; a zero-size grid would otherwise be CUDA's invalid launch.
  if (p.B * p.N == 0) return Status{1, Library::kCuda, "loss_forward_cuda: empty input", __FILE__, __LINE__};
  const int64_t chunks = chunks_of(p);
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(p.B));
  loss_partial_kernel<<<grid, kBlock, 0, s>>>(p, x, target, w, scratch);
  Status st = LITS_LAUNCH_STATUS("loss_partial_kernel");
  if (!st.ok()) return st;
  loss_reduce_kernel<<<grid_for(p.B * loss_stats_stride(p.K)), kBlock, 0, s>>>(p, scratch, chunks, stats);
  st = LITS_LAUNCH_STATUS("loss_reduce_kernel");
  if (!st.ok()) return st;
  loss_finalize_kernel<<<1, 1, 0, s>>>(p, stats, loss_out);
  return LITS_LAUNCH_STATUS("loss_finalize_kernel");
}

template <typename T>
Status loss_backward_cuda(const LossParams& p, const T* x, const int64_t* target, const T* w, const double* stats,
                          const T* g, T* dx, Stream s) {
  loss_backward_kernel<<<grid_for(p.B * p.N), kBlock, 0, s>>>(p, x, target, w, stats, g, dx);
  return LITS_LAUNCH_STATUS("loss_backward_kernel");
}

#define LITS_INSTANTIATE(T)                                                                                         \
  template Status loss_forward_cuda<T>(const LossParams&, const T*, const int64_t*, const T*, double*, double*, T*, \
                                       Stream);                                                                     \
  template Status loss_backward_cuda<T>(const LossParams&, const T*, const int64_t*, const T*, const double*,       \
                                        const T*, T*, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
