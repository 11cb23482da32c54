// CUDA strided copy / cast: one thread per element, offsets from the shared index helper.
#include "kernels/copy.h"
#include "kernels/cuda_launch.h"

#include <type_traits>

namespace lits::kernels {
namespace {

template <typename S, typename D>
__global__ void copy_kernel(const S* src, D* dst, CopyIndex ix, int64_t n) {
  LITS_GRID_STRIDE(i, n) {
    dst[strided_offset(ix.ndim, ix.shape, ix.dst_strides, i)] =
        static_cast<D>(src[strided_offset(ix.ndim, ix.shape, ix.src_strides, i)]);
  }
}

template <typename S, typename D>
__global__ void copy_dense_kernel(const S* src, D* dst, int64_t n) {
  LITS_GRID_STRIDE(i, n) dst[i] = static_cast<D>(src[i]);
}

}  // namespace

template <typename S, typename D>
Status copy_cuda(const S* src, D* dst, const CopyIndex& ix, Stream s) {
  int64_t n = 1;
  for (int d = 0; d < ix.ndim; ++d) n *= ix.shape[d];
  if (is_dense(ix.ndim, ix.shape, ix.src_strides) && is_dense(ix.ndim, ix.shape, ix.dst_strides)) {
    if constexpr (std::is_same_v<S, D>) {
      LITS_KERNEL_TRY(Library::kCuda,
                      cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(S), cudaMemcpyDeviceToDevice, s));
      return Status{};
    }
    copy_dense_kernel<<<grid_for(n), kBlock, 0, s>>>(src, dst, n);
  } else {
    copy_kernel<<<grid_for(n), kBlock, 0, s>>>(src, dst, ix, n);
  }
  return LITS_LAUNCH_STATUS("copy_kernel");
}

template Status copy_cuda<float, float>(const float*, float*, const CopyIndex&, Stream);
template Status copy_cuda<double, double>(const double*, double*, const CopyIndex&, Stream);
template Status copy_cuda<float, double>(const float*, double*, const CopyIndex&, Stream);
template Status copy_cuda<double, float>(const double*, float*, const CopyIndex&, Stream);
template Status copy_cuda<uint8_t, uint8_t>(const uint8_t*, uint8_t*, const CopyIndex&, Stream);
template Status copy_cuda<uint16_t, uint16_t>(const uint16_t*, uint16_t*, const CopyIndex&, Stream);
template Status copy_cuda<int32_t, int32_t>(const int32_t*, int32_t*, const CopyIndex&, Stream);
template Status copy_cuda<int64_t, int64_t>(const int64_t*, int64_t*, const CopyIndex&, Stream);

}  // namespace lits::kernels
