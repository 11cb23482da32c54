// Helpers for .cu launchers only: grid sizing for grid-stride loops and the launch-status check.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

constexpr int kBlock = 256;

inline unsigned grid_for(int64_t n, int block = kBlock) {
  const int64_t blocks = (n + block - 1) / block;
  // Grid-stride loops cover the rest; 65535 * 8 blocks keeps every SM busy on any current GPU.
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535 * 8)));
}

#define LITS_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// Sum of `v` over a block of blockDim.x == kBlock threads through the shared buffer `buf`
// [kBlock], in a fixed tree order (deterministic, no atomics). Every thread gets the total; all
// threads of the block must call it.
__device__ inline double block_sum(double v, double* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) buf[threadIdx.x] += buf[threadIdx.x + w];
    __syncthreads();
  }
  const double total = buf[0];
  __syncthreads();
  return total;
}

// Status of the most recent launch (configuration errors, or no device).
inline Status launch_status(const char* what, const char* file, int line) {
  const cudaError_t e = cudaGetLastError();
  return Status{static_cast<int>(e), Library::kCuda, what, file, line};
}
#define LITS_LAUNCH_STATUS(what) ::lits::kernels::launch_status(what, __FILE__, __LINE__)

}  // namespace lits::kernels
