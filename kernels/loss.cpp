// CPU multiclass losses: pixels in fixed chunks summed in parallel, chunks combined in order
// (results independent of the thread count); the backward is one parallel pass.
#include <cstddef>
#include <vector>

#include "kernels/loss.h"
#include "kernels/parallel.h"

namespace lits::kernels {

namespace {
constexpr int64_t kChunk = 4096;
}

template <typename T>
void loss_forward_cpu(const LossParams& p, const T* x, const int64_t* target, const T* w, double* stats, T* loss_out) {
  const int64_t stride = loss_stats_stride(p.K);
  const int64_t chunks = (p.N + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(p.B * chunks * stride), 0.0);
  parallel_for(
      p.B * chunks,
      [&](int64_t bc) {
        const int64_t b = bc / chunks, c0 = (bc % chunks) * kChunk, c1 = std::min(p.N, c0 + kChunk);
        double* acc = partial.data() + bc * stride;
        for (int64_t n = c0; n < c1; ++n) {
          const int64_t i = b * p.N + n;
          loss_accumulate_pixel(p, x + b * p.K * p.N + n, target[i], pixel_weight(w, i, p.alpha), acc);
        }
      },
      1);
  for (int64_t i = 0; i < loss_stats_size(p.B, p.K); ++i) stats[i] = 0.0;
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t k = 0; k < chunks; ++k)
      for (int64_t v = 0; v < stride; ++v) stats[b * stride + v] += partial[(b * chunks + k) * stride + v];
  loss_finalize(p, stats);
  loss_out[0] = static_cast<T>(stats[p.B * stride]);
}

template <typename T>
void loss_backward_cpu(const LossParams& p, const T* x, const int64_t* target, const T* w, const double* stats,
                       double g, T* dx) {
  const int64_t stride = loss_stats_stride(p.K);
  const double* coef = stats + p.B * stride;
  parallel_for(
      p.B * p.N,
      [&](int64_t i) {
        const int64_t b = i / p.N, n = i % p.N;
        const int64_t off = b * p.K * p.N + n;
        loss_backward_pixel(p, x + off, target[i], pixel_weight(w, i, p.alpha), stats + b * stride, coef, g, dx + off);
      },
      4096);
}

#define LITS_INSTANTIATE(T)                                                                              \
  template void loss_forward_cpu<T>(const LossParams&, const T*, const int64_t*, const T*, double*, T*); \
  template void loss_backward_cpu<T>(const LossParams&, const T*, const int64_t*, const T*, const double*, double, T*);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
