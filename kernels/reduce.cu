// CUDA sum over axes: one block per output for long reductions (shared-memory tree, fixed
// order, no atomics), one thread per output for short ones.
#include "kernels/cuda_launch.h"
#include "kernels/reduce.h"

namespace lits::kernels {
namespace {

template <typename T>
__global__ void sum_block_kernel(const T* x, T* y, ReducePlan p, double scale) {
  __shared__ double buf[kBlock];
  for (int64_t o = blockIdx.x; o < p.out_count; o += gridDim.x) {
    const int64_t base = strided_offset(p.nk, p.kshape, p.kstride, o);
    double acc = 0.0;
    for (int64_t r = threadIdx.x; r < p.red_count; r += blockDim.x)
      acc += static_cast<double>(x[base + strided_offset(p.nr, p.rshape, p.rstride, r)]);
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) buf[threadIdx.x] += buf[threadIdx.x + w];
      __syncthreads();
    }
    if (threadIdx.x == 0) y[o] = static_cast<T>(scale * buf[0]);
    __syncthreads();
  }
}

template <typename T>
__global__ void sum_thread_kernel(const T* x, T* y, ReducePlan p, double scale) {
  LITS_GRID_STRIDE(o, p.out_count) {
    const int64_t base = strided_offset(p.nk, p.kshape, p.kstride, o);
    double acc = 0.0;
    for (int64_t r = 0; r < p.red_count; ++r)
      acc += static_cast<double>(x[base + strided_offset(p.nr, p.rshape, p.rstride, r)]);
    y[o] = static_cast<T>(scale * acc);
  }
}

}  // namespace

template <typename T>
Status sum_cuda(const T* x, T* y, const ReduceIndex& ix, double scale, Stream s) {
  const ReducePlan p = make_reduce_plan(ix);
  if (p.out_count == 0) return Status{};  // no output: CUDA refuses a zero-size grid
  if (p.red_count <= 64) {
    sum_thread_kernel<<<grid_for(p.out_count), kBlock, 0, s>>>(x, y, p, scale);
  } else {
    const unsigned blocks = static_cast<unsigned>(p.out_count < 65535 * 8 ? p.out_count : 65535 * 8);
    sum_block_kernel<<<blocks, kBlock, 0, s>>>(x, y, p, scale);
  }
  return LITS_LAUNCH_STATUS("sum_kernel");
}

template Status sum_cuda<float>(const float*, float*, const ReduceIndex&, double, Stream);
template Status sum_cuda<double>(const double*, double*, const ReduceIndex&, double, Stream);

}  // namespace lits::kernels
