// CUDA target validation: integer atomics (exact, so the count is deterministic) into a small
// device buffer, copied back after the stream drains. The reported bad value is the one at the
// lowest index (atomicMin on the index).
#include "kernels/cuda_launch.h"
#include "kernels/loss_common.h"

namespace lits::kernels {
namespace {

__global__ void count_invalid_kernel(const int64_t* target, int64_t n, int64_t classes,
                                     unsigned long long* out) {  // out: [count, first index]
  LITS_GRID_STRIDE(i, n) {
    if (target[i] < 0 || target[i] >= classes) {
      atomicAdd(&out[0], 1ull);
      atomicMin(&out[1], static_cast<unsigned long long>(i));
    }
  }
}

}  // namespace

Status count_invalid_targets_cuda(const int64_t* target, int64_t n, int64_t classes, int64_t* count_host,
                                  int64_t* first_bad_host, Stream s) {
  unsigned long long* d = nullptr;
  LITS_KERNEL_TRY(Library::kCuda, cudaMallocAsync(&d, 2 * sizeof(unsigned long long), s));
  const unsigned long long init[2] = {0ull, ~0ull};
  LITS_KERNEL_TRY(Library::kCuda, cudaMemcpyAsync(d, init, sizeof init, cudaMemcpyHostToDevice, s));
  count_invalid_kernel<<<grid_for(n), kBlock, 0, s>>>(target, n, classes, d);
  Status st = LITS_LAUNCH_STATUS("count_invalid_kernel");
  unsigned long long h[2] = {0ull, 0ull};
  if (st.ok()) {
    LITS_KERNEL_TRY(Library::kCuda, cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, s));
  }
  LITS_KERNEL_TRY(Library::kCuda, cudaFreeAsync(d, s));
  LITS_KERNEL_TRY(Library::kCuda, cudaStreamSynchronize(s));
  if (!st.ok()) return st;
  *count_host = static_cast<int64_t>(h[0]);
  if (h[0] > 0) {
    LITS_KERNEL_TRY(Library::kCuda, cudaMemcpy(first_bad_host, target + h[1], sizeof(int64_t), cudaMemcpyDeviceToHost));
  }
  return Status{};
}

}  // namespace lits::kernels
