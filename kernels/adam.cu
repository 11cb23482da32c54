// CUDA Adam step: one launch for every parameter, blockIdx.y selecting the slot and a grid-stride loop
// over its elements (blocks past a small slot's end exit at once). The scalars come from device memory,
// so a captured launch takes each step's values.
#include <algorithm>

#include "kernels/adam.h"
#include "kernels/cuda_launch.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void adam_kernel(const AdamSlot<T>* slots, const AdamDeviceScalars<T>* scalars, const T* guard) {
  if (guard && !adam_finite(*guard)) return;
  const AdamSlot<T> s = slots[blockIdx.y];
  const AdamDeviceScalars<T> a = *scalars;
  LITS_GRID_STRIDE(i, s.n) adam_update_at(s, i, a.beta1, a.beta2, a.eps, a.weight_decay, a.step_size);
}

}  // namespace

template <typename T>
Status adam_step_cuda(const AdamSlot<T>* slots, int64_t count, int64_t max_n, const AdamDeviceScalars<T>* a,
                      const T* guard, Stream s) {
  if (count == 0 || max_n == 0) return Status{};
  // Each y-row of the grid is one slot; 65535 rows is far above any network's tensor count.
  if (count > 65535) return Status{1, Library::kCuda, "adam_step_cuda: more than 65535 tensors", __FILE__, __LINE__};
  const dim3 grid(std::min<unsigned>(grid_for(max_n), 1024), static_cast<unsigned>(count));
  adam_kernel<<<grid, kBlock, 0, s>>>(slots, a, guard);
  return LITS_LAUNCH_STATUS("adam_kernel");
}

template Status adam_step_cuda<float>(const AdamSlot<float>*, int64_t, int64_t, const AdamDeviceScalars<float>*,
                                      const float*, Stream);
template Status adam_step_cuda<double>(const AdamSlot<double>*, int64_t, int64_t, const AdamDeviceScalars<double>*,
                                       const double*, Stream);

}  // namespace lits::kernels
