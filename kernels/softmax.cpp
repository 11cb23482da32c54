// CPU channel softmax: one column (n, s) per iteration, parallel over columns.
#include "kernels/softmax.h"

#include "kernels/parallel.h"

namespace lits::kernels {

template <typename T>
void softmax_forward_cpu(const T* x, T* y, int64_t N, int64_t C, int64_t S) {
  parallel_for(
      N * S,
      [&](int64_t i) {
        const int64_t base = (i / S) * C * S + i % S;
        softmax_column(x + base, y + base, C, S);
      },
      4096);
}

template <typename T>
void softmax_backward_cpu(const T* y, const T* g, T* gx, int64_t N, int64_t C, int64_t S) {
  parallel_for(
      N * S,
      [&](int64_t i) {
        const int64_t base = (i / S) * C * S + i % S;
        softmax_backward_column(y + base, g + base, gx + base, C, S);
      },
      4096);
}

template void softmax_forward_cpu<float>(const float*, float*, int64_t, int64_t, int64_t);
template void softmax_forward_cpu<double>(const double*, double*, int64_t, int64_t, int64_t);
template void softmax_backward_cpu<float>(const float*, const float*, float*, int64_t, int64_t, int64_t);
template void softmax_backward_cpu<double>(const double*, const double*, double*, int64_t, int64_t, int64_t);

}  // namespace lits::kernels
