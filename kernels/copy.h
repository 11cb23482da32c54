// Strided copy with optional element conversion: dst[dst_off(i)] = D(src[src_off(i)]) over the
// row-major positions i of `shape`. Serves contiguous(), dtype casts, concat (copy into a
// narrowed view of the output) and the backward of narrow.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

struct CopyIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t src_strides[kMaxDims] = {};
  int64_t dst_strides[kMaxDims] = {};
};

// Instantiated for (S, D) in {float, double}^2, and for same-type copies of uint8_t, uint16_t
// (float16/bfloat16 storage), int32_t and int64_t.
template <typename S, typename D>
void copy_cpu(const S* src, D* dst, const CopyIndex& ix);
template <typename S, typename D>
Status copy_cuda(const S* src, D* dst, const CopyIndex& ix, Stream s);

}  // namespace lits::kernels
