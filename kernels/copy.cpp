// CPU strided copy / cast.
#include "kernels/copy.h"

#include <cstring>
#include <type_traits>

#include "kernels/parallel.h"

namespace lits::kernels {

template <typename S, typename D>
void copy_cpu(const S* src, D* dst, const CopyIndex& ix) {
  int64_t n = 1;
  for (int d = 0; d < ix.ndim; ++d) n *= ix.shape[d];
  const bool dense = is_dense(ix.ndim, ix.shape, ix.src_strides) && is_dense(ix.ndim, ix.shape, ix.dst_strides);
  if constexpr (std::is_same_v<S, D>) {
    if (dense) {
      // memcpy with a null pointer is undefined even for 0 bytes (an empty tensor has no data).
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(S));
      return;
    }
  }
  if (dense) {
    parallel_for(n, [&](int64_t i) { dst[i] = static_cast<D>(src[i]); });
    return;
  }
  const int last = ix.ndim - 1;
  if (ix.ndim > 0 && ix.src_strides[last] == 1 && ix.dst_strides[last] == 1 && ix.shape[last] >= 16) {
    // Rows of the innermost dim are contiguous on both sides: copy row by row.
    const int64_t row = ix.shape[last], rows = n / row;
    parallel_for(
        rows,
        [&](int64_t r) {
          const S* s = src + strided_offset(last, ix.shape, ix.src_strides, r);
          D* d = dst + strided_offset(last, ix.shape, ix.dst_strides, r);
          if constexpr (std::is_same_v<S, D>) {
            std::memcpy(d, s, static_cast<size_t>(row) * sizeof(S));
          } else {
            for (int64_t k = 0; k < row; ++k) d[k] = static_cast<D>(s[k]);
          }
        },
        64);
    return;
  }
  parallel_for(n, [&](int64_t i) {
    dst[strided_offset(ix.ndim, ix.shape, ix.dst_strides, i)] =
        static_cast<D>(src[strided_offset(ix.ndim, ix.shape, ix.src_strides, i)]);
  });
}

template void copy_cpu<float, float>(const float*, float*, const CopyIndex&);
template void copy_cpu<double, double>(const double*, double*, const CopyIndex&);
template void copy_cpu<float, double>(const float*, double*, const CopyIndex&);
template void copy_cpu<double, float>(const double*, float*, const CopyIndex&);
template void copy_cpu<uint8_t, uint8_t>(const uint8_t*, uint8_t*, const CopyIndex&);
template void copy_cpu<uint16_t, uint16_t>(const uint16_t*, uint16_t*, const CopyIndex&);
template void copy_cpu<int32_t, int32_t>(const int32_t*, int32_t*, const CopyIndex&);
template void copy_cpu<int64_t, int64_t>(const int64_t*, int64_t*, const CopyIndex&);

}  // namespace lits::kernels
