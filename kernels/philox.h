// Philox4x32-10 counter-based RNG (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11). Pure integer math in LITS_HD functions, so the CPU and CUDA kernels draw exactly the same
// bits for the same (seed, counter). Element i of a draw at generator offset o uses counter o + i.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

struct Philox4 {
  uint32_t v[4];
};

LITS_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// The full 128-bit counter / 64-bit key form (used by the known-answer tests).
LITS_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kM0, ctr.v[0], &hi0, &lo0);
    philox_mulhilo(kM1, ctr.v[2], &hi1, &lo1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return ctr;
}

// Four random words for 64-bit counter `c` under 64-bit `seed`.
LITS_HD Philox4 philox_draw(uint64_t seed, uint64_t c) {
  Philox4 ctr{{static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0u, 0u}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) with 24 random bits (float) or 53 (double): exact in both, identical on CPU and GPU.
LITS_HD float philox_unit_float(uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }
LITS_HD double philox_unit_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

// a + b * c rounded twice, never fused: nvcc contracts to FMA by default and g++ (x86-64 baseline)
// does not, which would make CPU and GPU draws differ in the last bit.
LITS_HD float add_mul_rn(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, __fmul_rn(b, c));
#else
  return a + b * c;
#endif
}
LITS_HD double add_mul_rn(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, __dmul_rn(b, c));
#else
  return a + b * c;
#endif
}

template <typename T>
LITS_HD T philox_uniform(uint64_t seed, uint64_t c, T lo, T hi) {
  const Philox4 r = philox_draw(seed, c);
  if constexpr (sizeof(T) == 4) {
    return add_mul_rn(lo, hi - lo, philox_unit_float(r.v[0]));
  } else {
    return add_mul_rn(lo, hi - lo, static_cast<T>(philox_unit_double(r.v[0], r.v[1])));
  }
}

// Box-Muller in double precision for both types: the integer draws are identical across
// devices, and double log/cos differ by at most an ulp or two between glibc and CUDA, which
// float32 rounding absorbs.
template <typename T>
LITS_HD T philox_normal(uint64_t seed, uint64_t c, T mean, T std) {
  const Philox4 r = philox_draw(seed, c);
  const double u1 = 1.0 - philox_unit_double(r.v[0], r.v[1]);  // (0, 1]: log is finite
  const double u2 = philox_unit_double(r.v[2], r.v[3]);
  const double z = ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586476925 * u2);
  return add_mul_rn(mean, std, static_cast<T>(z));
}

}  // namespace lits::kernels
