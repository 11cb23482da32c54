// CUDA elementwise kernels: grid-stride loops over the LITS_HD math of elementwise.h.
#include "kernels/cuda_launch.h"
#include "kernels/elementwise.h"
#include "kernels/philox.h"

namespace lits::kernels {
namespace {

template <UnaryOp Op, typename T>
__global__ void unary_forward_kernel(const T* x, T* y, int64_t n, T p) {
  LITS_GRID_STRIDE(i, n) y[i] = unary_forward<Op>(x[i], p);
}

template <UnaryOp Op, typename T>
__global__ void unary_backward_kernel(const T* g, const T* s, T* gx, int64_t n, T p) {
  LITS_GRID_STRIDE(i, n) gx[i] = unary_backward<Op>(g[i], s ? s[i] : T(0), p);
}

template <BinaryOp Op, typename T>
__global__ void binary_kernel(const T* a, const T* b, T* out, BroadcastIndex ix, int64_t n) {
  LITS_GRID_STRIDE(i, n) {
    int64_t oa, ob;
    broadcast_offsets(ix, i, &oa, &ob);
    out[i] = binary_apply<Op>(a[oa], b[ob]);
  }
}

template <BinaryOp Op, typename T>
__global__ void binary_dense_kernel(const T* a, const T* b, T* out, int64_t n) {
  LITS_GRID_STRIDE(i, n) out[i] = binary_apply<Op>(a[i], b[i]);
}

template <typename T>
__global__ void fill_kernel(T* y, int64_t n, T value) {
  LITS_GRID_STRIDE(i, n) y[i] = value;
}

template <typename T>
__global__ void accumulate_kernel(T* y, const T* x, int64_t n, T alpha) {
  LITS_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

template <typename T>
__global__ void uniform_kernel(T* y, int64_t n, T lo, T hi, uint64_t seed, uint64_t offset) {
  LITS_GRID_STRIDE(i, n) y[i] = philox_uniform<T>(seed, offset + i, lo, hi);
}

template <typename T>
__global__ void normal_kernel(T* y, int64_t n, T mean, T std, uint64_t seed, uint64_t offset) {
  LITS_GRID_STRIDE(i, n) y[i] = philox_normal<T>(seed, offset + i, mean, std);
}

template <UnaryOp Op, typename T>
Status launch_unary_forward(const T* x, T* y, int64_t n, T p, Stream s) {
  unary_forward_kernel<Op><<<grid_for(n), kBlock, 0, s>>>(x, y, n, p);
  return LITS_LAUNCH_STATUS("unary_forward_kernel");
}

template <UnaryOp Op, typename T>
Status launch_unary_backward(const T* g, const T* sv, T* gx, int64_t n, T p, Stream s) {
  unary_backward_kernel<Op><<<grid_for(n), kBlock, 0, s>>>(g, sv, gx, n, p);
  return LITS_LAUNCH_STATUS("unary_backward_kernel");
}

template <BinaryOp Op, typename T>
Status launch_binary(const T* a, const T* b, T* out, const BroadcastIndex& ix, Stream s) {
  int64_t n = 1;
  for (int d = 0; d < ix.ndim; ++d) n *= ix.shape[d];
  if (is_dense(ix.ndim, ix.shape, ix.a_strides) && is_dense(ix.ndim, ix.shape, ix.b_strides))
    binary_dense_kernel<Op><<<grid_for(n), kBlock, 0, s>>>(a, b, out, n);
  else
    binary_kernel<Op><<<grid_for(n), kBlock, 0, s>>>(a, b, out, ix, n);
  return LITS_LAUNCH_STATUS("binary_kernel");
}

}  // namespace

template <typename T>
Status unary_forward_cuda(UnaryOp op, const T* x, T* y, int64_t n, T p, Stream s) {
  switch (op) {
    case UnaryOp::kRelu: return launch_unary_forward<UnaryOp::kRelu>(x, y, n, p, s);
    case UnaryOp::kLeakyRelu: return launch_unary_forward<UnaryOp::kLeakyRelu>(x, y, n, p, s);
    case UnaryOp::kSigmoid: return launch_unary_forward<UnaryOp::kSigmoid>(x, y, n, p, s);
    case UnaryOp::kExp: return launch_unary_forward<UnaryOp::kExp>(x, y, n, p, s);
    case UnaryOp::kLog: return launch_unary_forward<UnaryOp::kLog>(x, y, n, p, s);
    case UnaryOp::kScale: return launch_unary_forward<UnaryOp::kScale>(x, y, n, p, s);
  }
  return Status{};
}

template <typename T>
Status unary_backward_cuda(UnaryOp op, const T* g, const T* sv, T* gx, int64_t n, T p, Stream s) {
  switch (op) {
    case UnaryOp::kRelu: return launch_unary_backward<UnaryOp::kRelu>(g, sv, gx, n, p, s);
    case UnaryOp::kLeakyRelu: return launch_unary_backward<UnaryOp::kLeakyRelu>(g, sv, gx, n, p, s);
    case UnaryOp::kSigmoid: return launch_unary_backward<UnaryOp::kSigmoid>(g, sv, gx, n, p, s);
    case UnaryOp::kExp: return launch_unary_backward<UnaryOp::kExp>(g, sv, gx, n, p, s);
    case UnaryOp::kLog: return launch_unary_backward<UnaryOp::kLog>(g, sv, gx, n, p, s);
    case UnaryOp::kScale: return launch_unary_backward<UnaryOp::kScale>(g, sv, gx, n, p, s);
  }
  return Status{};
}

template <typename T>
Status binary_cuda(BinaryOp op, const T* a, const T* b, T* out, const BroadcastIndex& ix, Stream s) {
  switch (op) {
    case BinaryOp::kAdd: return launch_binary<BinaryOp::kAdd>(a, b, out, ix, s);
    case BinaryOp::kSub: return launch_binary<BinaryOp::kSub>(a, b, out, ix, s);
    case BinaryOp::kMul: return launch_binary<BinaryOp::kMul>(a, b, out, ix, s);
    case BinaryOp::kDiv: return launch_binary<BinaryOp::kDiv>(a, b, out, ix, s);
  }
  return Status{};
}

template <typename T>
Status fill_cuda(T* y, int64_t n, T value, Stream s) {
  fill_kernel<<<grid_for(n), kBlock, 0, s>>>(y, n, value);
  return LITS_LAUNCH_STATUS("fill_kernel");
}

template <typename T>
Status accumulate_cuda(T* y, const T* x, int64_t n, T alpha, Stream s) {
  accumulate_kernel<<<grid_for(n), kBlock, 0, s>>>(y, x, n, alpha);
  return LITS_LAUNCH_STATUS("accumulate_kernel");
}

template <typename T>
Status uniform_cuda(T* y, int64_t n, T lo, T hi, uint64_t seed, uint64_t offset, Stream s) {
  uniform_kernel<<<grid_for(n), kBlock, 0, s>>>(y, n, lo, hi, seed, offset);
  return LITS_LAUNCH_STATUS("uniform_kernel");
}

template <typename T>
Status normal_cuda(T* y, int64_t n, T mean, T std, uint64_t seed, uint64_t offset, Stream s) {
  normal_kernel<<<grid_for(n), kBlock, 0, s>>>(y, n, mean, std, seed, offset);
  return LITS_LAUNCH_STATUS("normal_kernel");
}

#define LITS_INSTANTIATE(T)                                                                        \
  template Status unary_forward_cuda<T>(UnaryOp, const T*, T*, int64_t, T, Stream);                \
  template Status unary_backward_cuda<T>(UnaryOp, const T*, const T*, T*, int64_t, T, Stream);     \
  template Status binary_cuda<T>(BinaryOp, const T*, const T*, T*, const BroadcastIndex&, Stream); \
  template Status fill_cuda<T>(T*, int64_t, T, Stream);                                            \
  template Status accumulate_cuda<T>(T*, const T*, int64_t, T, Stream);                            \
  template Status uniform_cuda<T>(T*, int64_t, T, T, uint64_t, uint64_t, Stream);                  \
  template Status normal_cuda<T>(T*, int64_t, T, T, uint64_t, uint64_t, Stream);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
