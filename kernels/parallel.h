// CPU parallel loop helper: OpenMP over a range when it is large enough to pay for the threads.
// Each index is independent, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace lits::kernels {

constexpr int64_t kParallelGrain = 1 << 15;

template <typename F>
void parallel_for(int64_t n, F&& f, int64_t grain = kParallelGrain) {
#pragma omp parallel for schedule(static) if (n >= grain)
  for (int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace lits::kernels
