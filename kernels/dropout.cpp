// CPU dropout2d: Philox mask per channel and its per-channel application; the math is shared
// with dropout.cu through dropout.h.
#include "kernels/dropout.h"

#include "kernels/parallel.h"

namespace lits::kernels {

template <typename T>
void dropout_mask_cpu(T* mask, int64_t channels, double p, T keep_scale, uint64_t seed, uint64_t offset) {
  parallel_for(
      channels, [&](int64_t j) { mask[j] = dropout_channel_factor(seed, offset + j, p, keep_scale); }, 4096);
}

template <typename T>
void dropout_apply_cpu(const T* x, const T* mask, T* y, int64_t channels, int64_t S) {
  parallel_for(channels * S, [&](int64_t i) { dropout_apply_at(x, mask, y, S, i); });
}

#define LITS_INSTANTIATE(T)                                                      \
  template void dropout_mask_cpu<T>(T*, int64_t, double, T, uint64_t, uint64_t); \
  template void dropout_apply_cpu<T>(const T*, const T*, T*, int64_t, int64_t);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
