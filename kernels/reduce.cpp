// CPU sum over axes. Large single reductions are split into fixed-size chunks summed in
// parallel and combined in chunk order: deterministic for any thread count.
#include "kernels/reduce.h"

#include <algorithm>
#include <vector>

#include "kernels/parallel.h"

namespace lits::kernels {
namespace {

constexpr int64_t kChunk = 1 << 14;

// Sums reduction positions r0..r1-1 in that order. When the innermost reduced dim is contiguous
// (a bias gradient's H x W, a norm's group), each run along it is a plain loop and the offset
// arithmetic runs once per run instead of once per element: same order, same result.
template <typename T>
double sum_range(const T* x, const ReducePlan& p, int64_t base, int64_t r0, int64_t r1) {
  double acc = 0.0;
  if (p.nr >= 1 && p.rstride[p.nr - 1] == 1) {
    const int64_t run = p.rshape[p.nr - 1];
    for (int64_t r = r0; r < r1;) {
      const int64_t at = r % run, n = std::min(run - at, r1 - r);
      const T* line = x + base + strided_offset(p.nr - 1, p.rshape, p.rstride, r / run) + at;
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(line[i]);
      r += n;
    }
  } else {
    for (int64_t r = r0; r < r1; ++r)
      acc += static_cast<double>(x[base + strided_offset(p.nr, p.rshape, p.rstride, r)]);
  }
  return acc;
}

}  // namespace

template <typename T>
void sum_cpu(const T* x, T* y, const ReduceIndex& ix, double scale) {
  const ReducePlan p = make_reduce_plan(ix);
  if (p.out_count >= 64 || p.red_count < 4 * kChunk) {
    parallel_for(
        p.out_count,
        [&](int64_t o) {
          const int64_t base = strided_offset(p.nk, p.kshape, p.kstride, o);
          y[o] = static_cast<T>(scale * sum_range(x, p, base, 0, p.red_count));
        },
        64);
    return;
  }
  const int64_t chunks = (p.red_count + kChunk - 1) / kChunk;
  std::vector<double> partial(chunks);
  for (int64_t o = 0; o < p.out_count; ++o) {
    const int64_t base = strided_offset(p.nk, p.kshape, p.kstride, o);
    parallel_for(
        chunks,
        [&](int64_t c) { partial[c] = sum_range(x, p, base, c * kChunk, std::min(p.red_count, (c + 1) * kChunk)); }, 2);
    double acc = 0.0;
    for (double v : partial) acc += v;
    y[o] = static_cast<T>(scale * acc);
  }
}

template void sum_cpu<float>(const float*, float*, const ReduceIndex&, double);
template void sum_cpu<double>(const double*, double*, const ReduceIndex&, double);

}  // namespace lits::kernels
