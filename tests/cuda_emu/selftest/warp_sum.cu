// A block sum through warp shuffles: each warp adds its lanes with __shfl_down_sync, warp 0 adds
// the warps' sums from shared memory. The project's kernels do not shuffle yet; this is the pattern
// they will use, here so the emulator's warp collectives have a real client and the self-test's
// mutants something to break. It is compiled for the emulated device only.
#include <cuda_runtime.h>

#include <cstdint>

namespace lits::emu_selftest {
namespace {

__device__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// One block of 256 threads per row of x [rows, n].
__global__ void warp_block_sum_kernel(const double* x, int64_t n, double* out) {
  __shared__ double partial[32];
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += x[blockIdx.x * n + i];
  s = warp_sum(s);
  if (threadIdx.x % warpSize == 0) partial[threadIdx.x / warpSize] = s;
  __syncthreads();
  if (threadIdx.x < warpSize) {
    s = threadIdx.x < blockDim.x / warpSize ? partial[threadIdx.x] : 0.0;
    s = warp_sum(s);
    if (threadIdx.x == 0) out[blockIdx.x] = s;
  }
}

}  // namespace

cudaError_t warp_block_sum(const double* x, int64_t rows, int64_t n, double* out) {
  if (rows == 0) return cudaSuccess;
  warp_block_sum_kernel<<<static_cast<unsigned>(rows), 256>>>(x, n, out);
  return cudaGetLastError();
}

}  // namespace lits::emu_selftest
