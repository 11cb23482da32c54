// CPU parallel loop helper: OpenMP over a range when it is large enough to pay for the threads.
// Each index is independent, so results do not depend on the thread count.
#pragma once

#include <omp.h>

#include <cstdint>

namespace lits::kernels {

constexpr int64_t kParallelGrain = 1 << 15;

template <typename F>
void parallel_for(int64_t n, F&& f, int64_t grain = kParallelGrain) {
#pragma omp parallel for schedule(static) if (n >= grain)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// The same split as contiguous ranges, f(begin, end) once per thread: a loop body that keeps its
// pointers and scalars in locals, which the compiler can vectorise (through a captured reference
// it must assume a store may change them, and reloads them every element).
template <typename F>
void parallel_ranges(int64_t n, F&& f, int64_t grain = kParallelGrain) {
  if (n < grain) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    if (begin < end) f(begin, end);
  }
}

}  // namespace lits::kernels
