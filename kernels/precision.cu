// CUDA side of kernels/precision.h: float32 <-> bfloat16 conversion, one element per thread of a
// grid-stride loop (memory bound; the staging around a bfloat16 convolution or GEMM).
#include "kernels/cuda_launch.h"
#include "kernels/precision.h"

namespace lits::kernels {
namespace {

__global__ void float_to_bf16_kernel(const float* in, uint16_t* out, int64_t n) {
  LITS_GRID_STRIDE(i, n) out[i] = float_to_bf16(in[i]);
}

__global__ void bf16_to_float_kernel(const uint16_t* in, float* out, int64_t n) {
  LITS_GRID_STRIDE(i, n) out[i] = bf16_to_float(in[i]);
}

}  // namespace

Status float_to_bf16_cuda(const float* in, uint16_t* out, int64_t n, Stream s) {
  if (n == 0) return Status{};
  float_to_bf16_kernel<<<grid_for(n), kBlock, 0, s>>>(in, out, n);
  return LITS_LAUNCH_STATUS("float_to_bf16_kernel");
}

Status bf16_to_float_cuda(const uint16_t* in, float* out, int64_t n, Stream s) {
  if (n == 0) return Status{};
  bf16_to_float_kernel<<<grid_for(n), kBlock, 0, s>>>(in, out, n);
  return LITS_LAUNCH_STATUS("bf16_to_float_kernel");
}

}  // namespace lits::kernels
