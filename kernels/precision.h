// The math of float32 convolutions and GEMMs (docs/gpu-fast-path.md, "Precision"):
//   kFp32  float32 operands, float32 accumulation (cuDNN FMA math, cuBLAS 32F compute).
//   kTf32  operands rounded to TF32 (10 mantissa bits, to nearest, ties away from zero, as the
//          tensor cores' conversion cvt.rna.tf32.f32), float32 accumulation.
//   kBf16  operands and the convolution's product stored as bfloat16 (8 mantissa bits, to nearest
//          even, as __float2bfloat16), float32 accumulation; GEMM products stay float32, as
//          cuBLAS writes them. Master weights, Adam state, norms and losses stay float32.
// The CPU twin of each mode is float32 arithmetic on operands rounded the same way (round_cpu),
// so CUDA and CPU differ only in summation order. float64 ignores the mode (gradient checks).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/common.h"

namespace lits::kernels {

enum class MathMode : uint8_t { kFp32, kTf32, kBf16 };

LITS_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}
LITS_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// float32 -> bfloat16 bits, to nearest even; NaN stays a (quiet) NaN.
LITS_HD uint16_t float_to_bf16(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
LITS_HD float bf16_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }
LITS_HD float round_to_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

// float32 rounded to TF32's 10 mantissa bits, to nearest, ties away from zero; Inf and NaN kept.
LITS_HD float round_to_tf32(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7F800000u) == 0x7F800000u) return f;
  return bits_float((u + 0x1000u) & 0xFFFFE000u);
}

// out[i] = in[i] rounded as `mode` rounds an operand (a copy for kFp32); in == out is allowed.
void round_cpu(MathMode mode, const float* in, float* out, int64_t n);

// Conversions on the device, for the bfloat16 staging of convolutions and GEMMs.
Status float_to_bf16_cuda(const float* in, uint16_t* out, int64_t n, Stream s);
Status bf16_to_float_cuda(const uint16_t* in, float* out, int64_t n, Stream s);

}  // namespace lits::kernels
