// CPU global average pooling and channel scaling: one plane per iteration for the sums (each a
// sequential double accumulation, so the result does not depend on the thread count), one
// element per iteration for the broadcasts.
#include "kernels/squeeze_excite.h"

#include <algorithm>

#include "kernels/parallel.h"

namespace lits::kernels {
namespace {

// Planes per thread worth starting threads for: a plane costs S reads.
int64_t plane_grain(int64_t S) { return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(S, 1)); }

}  // namespace

template <typename T>
void global_avg_pool_forward_cpu(const T* x, T* y, int64_t planes, int64_t S) {
  parallel_for(
      planes,
      [&](int64_t p) {
        const T* xp = x + p * S;
        double acc = 0.0;
        for (int64_t i = 0; i < S; ++i) acc += static_cast<double>(xp[i]);
        y[p] = plane_mean<T>(acc, S);
      },
      plane_grain(S));
}

template <typename T>
void global_avg_pool_backward_cpu(const T* gy, T* gx, int64_t planes, int64_t S) {
  parallel_for(planes * S, [&](int64_t i) { avg_pool_input_grad_at(gy, gx, S, i); });
}

template <typename T>
void channel_scale_forward_cpu(const T* x, const T* s, T* y, int64_t planes, int64_t S) {
  parallel_for(planes * S, [&](int64_t i) { channel_scale_at(x, s, y, S, i); });
}

template <typename T>
void channel_scale_backward_cpu(const T* g, const T* x, const T* s, T* gx, T* gs, int64_t planes, int64_t S) {
  if (gx) channel_scale_forward_cpu(g, s, gx, planes, S);
  if (!gs) return;
  parallel_for(
      planes,
      [&](int64_t p) {
        double acc = 0.0;
        for (int64_t i = p * S; i < (p + 1) * S; ++i) acc += scale_grad_term(g[i], x[i]);
        gs[p] = static_cast<T>(acc);
      },
      plane_grain(S));
}

#define LITS_INSTANTIATE(T)                                                             \
  template void global_avg_pool_forward_cpu<T>(const T*, T*, int64_t, int64_t);         \
  template void global_avg_pool_backward_cpu<T>(const T*, T*, int64_t, int64_t);        \
  template void channel_scale_forward_cpu<T>(const T*, const T*, T*, int64_t, int64_t); \
  template void channel_scale_backward_cpu<T>(const T*, const T*, const T*, T*, T*, int64_t, int64_t);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
