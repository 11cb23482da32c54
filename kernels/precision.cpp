// CPU side of kernels/precision.h: the operand rounding of the TF32 and bfloat16 twins.
#include "kernels/precision.h"

#include <algorithm>

namespace lits::kernels {

void round_cpu(MathMode mode, const float* in, float* out, int64_t n) {
  switch (mode) {
    case MathMode::kFp32:
      if (in != out) std::copy(in, in + n, out);
      return;
    case MathMode::kTf32:
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) out[i] = round_to_tf32(in[i]);
      return;
    case MathMode::kBf16:
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) out[i] = round_to_bf16(in[i]);
      return;
  }
}

}  // namespace lits::kernels
