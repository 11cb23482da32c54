// CPU max pooling and x2 nearest upsampling: one output (forward) or one input pixel (backward)
// per iteration over the shared math of pool.h; every iteration writes its own element, so the
// result does not depend on the thread count.
#include "kernels/pool.h"

#include "kernels/parallel.h"

namespace lits::kernels {

template <typename T>
void max_pool_forward_cpu(const T* x, T* y, int32_t* argmax, const PoolGeometry& g) {
  // A window costs about kernel^2 reads, so fewer of them are worth the threads.
  parallel_for(
      g.planes * g.out_h * g.out_w, [&](int64_t i) { max_pool_output(x, y, argmax, g, i); }, 4096);
}

template <typename T>
void max_pool_backward_cpu(const T* gy, const int32_t* argmax, T* gx, const PoolGeometry& g) {
  parallel_for(
      g.planes * g.in_h * g.in_w, [&](int64_t i) { max_pool_input_grad(gy, argmax, gx, g, i); }, 4096);
}

template <typename T>
void upsample2x_forward_cpu(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w) {
  parallel_for(planes * 4 * in_h * in_w, [&](int64_t i) { upsample2x_output(x, y, in_h, in_w, i); });
}

template <typename T>
void upsample2x_backward_cpu(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w) {
  parallel_for(planes * in_h * in_w, [&](int64_t i) { upsample2x_input_grad(gy, gx, in_h, in_w, i); });
}

#define LITS_INSTANTIATE(T)                                                                  \
  template void max_pool_forward_cpu<T>(const T*, T*, int32_t*, const PoolGeometry&);        \
  template void max_pool_backward_cpu<T>(const T*, const int32_t*, T*, const PoolGeometry&); \
  template void upsample2x_forward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t);          \
  template void upsample2x_backward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
