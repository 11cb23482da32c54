// CPU forward and backward of binary_pwce, weighted_binary_dice, focal_pwce and focal_dice: one
// (sample, chunk) per parallel iteration for the sums, each a sequential double accumulation, then
// a sequential combination; one pixel per iteration for the gradient.
#include "kernels/loss_binary.h"

#include <algorithm>

#include "kernels/parallel.h"

namespace lits::kernels {
namespace {

// Chunks per thread worth starting threads for: a chunk costs up to kBinaryFocalChunk pixel reads.
constexpr int64_t kChunkGrain = std::max<int64_t>(1, kParallelGrain / kBinaryFocalChunk);

template <BinaryFocalLoss L, typename T>
void forward(const BinaryFocalArgs<T>& a, double* partials, double* stats, T* loss) {
  const int64_t chunks = binary_focal_chunks(a.N);
  parallel_for(
      a.B * chunks,
      [&](int64_t u) {
        const int64_t b = u / chunks, n0 = (u % chunks) * kBinaryFocalChunk, n1 = std::min(n0 + kBinaryFocalChunk, a.N);
        double s[kBinaryFocalStats] = {};
        for (int64_t n = n0; n < n1; ++n) binary_focal_accumulate<L>(a, b, n, s);
        for (int k = 0; k < kBinaryFocalStats; ++k) partials[u * kBinaryFocalStats + k] = s[k];
      },
      kChunkGrain);
  for (int64_t b = 0; b < a.B; ++b) binary_focal_combine(partials, chunks, b, stats);
  loss[0] = static_cast<T>(binary_focal_loss_value<L>(a, stats));
}

template <BinaryFocalLoss L, typename T>
void backward(const BinaryFocalArgs<T>& a, const double* stats, double g, T* dp) {
  parallel_for(a.B * a.N, [&](int64_t i) { binary_focal_input_grad<L>(a, stats, g, i / a.N, i % a.N, dp); });
}

}  // namespace

template <typename T>
void binary_focal_forward_cpu(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, double* partials, double* stats,
                              T* loss) {
  with_binary_focal_loss(kind, [&](auto k) { forward<decltype(k)::value>(a, partials, stats, loss); });
}

template <typename T>
void binary_focal_backward_cpu(BinaryFocalLoss kind, const BinaryFocalArgs<T>& a, const double* stats, const T* g,
                               T* dp) {
  const double gv = static_cast<double>(g[0]);
  with_binary_focal_loss(kind, [&](auto k) { backward<decltype(k)::value>(a, stats, gv, dp); });
}

#define LITS_INSTANTIATE(T)                                                                                    \
  template void binary_focal_forward_cpu<T>(BinaryFocalLoss, const BinaryFocalArgs<T>&, double*, double*, T*); \
  template void binary_focal_backward_cpu<T>(BinaryFocalLoss, const BinaryFocalArgs<T>&, const double*, const T*, T*);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
