// Sum (and mean, through `scale`) of a contiguous tensor over any set of axes. Used by the
// engine's sum/mean ops and by broadcast backward (reducing a gradient to an operand's shape).
// Accumulation is in double for both float and double, in a fixed order, so the result does not
// depend on the thread count.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

struct ReduceIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};  // input shape (contiguous)
  bool reduce[kMaxDims] = {};    // true: summed away (output keeps a size-1 dim there)
};

// Kept dims (indexed by output position) and reduced dims (indexed by reduction position),
// each with the input strides, so input offset = kept offset + reduced offset.
struct ReducePlan {
  int nk = 0, nr = 0;
  int64_t kshape[kMaxDims] = {}, kstride[kMaxDims] = {};
  int64_t rshape[kMaxDims] = {}, rstride[kMaxDims] = {};
  int64_t out_count = 1, red_count = 1;
};

inline ReducePlan make_reduce_plan(const ReduceIndex& ix) {
  ReducePlan p;
  int64_t stride = 1;
  int64_t strides[kMaxDims] = {};
  for (int d = ix.ndim - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= ix.shape[d];
  }
  for (int d = 0; d < ix.ndim; ++d) {
    if (ix.reduce[d]) {
      p.rshape[p.nr] = ix.shape[d];
      p.rstride[p.nr++] = strides[d];
      p.red_count *= ix.shape[d];
    } else {
      p.kshape[p.nk] = ix.shape[d];
      p.kstride[p.nk++] = strides[d];
      p.out_count *= ix.shape[d];
    }
  }
  return p;
}

// x: [ix.shape] contiguous; y: [out_count] contiguous; y = scale * sum over reduced axes.
template <typename T>
void sum_cpu(const T* x, T* y, const ReduceIndex& ix, double scale);
template <typename T>
Status sum_cuda(const T* x, T* y, const ReduceIndex& ix, double scale, Stream s);

}  // namespace lits::kernels
