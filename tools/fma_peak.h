// The machine's measured float32 multiply-add peak, for the benchmarks' "fraction of peak": a
// calibration loop of independent fused multiply-adds on every compute thread, not a number from
// a data sheet (clock speeds and shared cores on these machines make those wrong).
#pragma once

namespace lits::tools {

struct FmaPeak {
  double gflops = 0;  // all threads together, GFLOP/s (a multiply-add counts 2)
  int threads = 0;
  const char* isa = "";  // "AVX2+FMA" or "SSE2 (mul+add)"
};

// About 0.2 s: the best of five runs after a warm-up run (a neighbour may take a core for a while).
FmaPeak measure_fma_peak();

}  // namespace lits::tools
