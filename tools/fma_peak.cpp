// Calibration loop: each thread keeps 12 accumulators of 8 floats in flight (two FMA pipes times
// a latency of 4 to 5 cycles need at least 10 independent chains to stay busy), updated with
// a * x + b. The constants keep the values bounded and normal (no denormal slow-down). The AVX2
// version is compiled for that target only and chosen at run time, so the binary still runs on
// machines without it.
#include "tools/fma_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>

namespace lits::tools {
namespace {

constexpr int kChains = 12;
volatile float g_sink = 0;
constexpr long kIterations = 1 << 23;  // about 30 ms a run at 100 GFLOP/s per thread

__attribute__((target("avx2,fma"))) float fma_loop_avx2(float seed) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(seed + static_cast<float>(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
  for (long i = 0; i < kIterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  alignas(32) float out[8];
  _mm256_store_ps(out, sum);
  return out[0];
}

float mul_add_loop_sse(float seed) {
  __m128 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(seed + static_cast<float>(c));
  const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-6f);
  for (long i = 0; i < kIterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], a), b);
  __m128 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm_add_ps(sum, acc[c]);
  return _mm_cvtss_f32(sum);
}

}  // namespace

FmaPeak measure_fma_peak() {
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const int lanes = avx2 ? 8 : 4;
  FmaPeak peak;
  peak.threads = omp_get_max_threads();
  peak.isa = avx2 ? "AVX2+FMA" : "SSE2 (mul+add)";
  const double flops = 2.0 * lanes * kChains * static_cast<double>(kIterations) * peak.threads;
  for (int run = 0; run < 6; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    float sum = 0;
#pragma omp parallel reduction(+ : sum)
    {
      const float seed = static_cast<float>(omp_get_thread_num());
      sum += avx2 ? fma_loop_avx2(seed) : mul_add_loop_sse(seed);
    }
    g_sink = sum;  // the loops' results are used, so they cannot be optimised away
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (run > 0) peak.gflops = std::max(peak.gflops, flops / s / 1e9);  // run 0 wakes the threads
  }
  return peak;
}

}  // namespace lits::tools
