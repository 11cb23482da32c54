// CPU elementwise kernels; the math is shared with elementwise.cu through elementwise.h.
#include "kernels/elementwise.h"

#include <algorithm>

#include "kernels/parallel.h"
#include "kernels/philox.h"

namespace lits::kernels {
namespace {

// The loops take everything by value: a pointer or scalar read through the lambda object could
// be changed by a store to y (as far as the compiler knows), so it was reloaded every element and
// the loop stayed scalar.
template <UnaryOp Op, typename T>
void unary_forward_range(const T* x, T* y, int64_t begin, int64_t end, T p) {
  for (int64_t i = begin; i < end; ++i) y[i] = unary_forward<Op>(x[i], p);
}

template <UnaryOp Op, typename T>
void unary_backward_range(const T* g, const T* s, T* gx, int64_t begin, int64_t end, T p) {
  if (s == nullptr) {
    for (int64_t i = begin; i < end; ++i) gx[i] = unary_backward<Op>(g[i], T(0), p);
  } else {
    for (int64_t i = begin; i < end; ++i) gx[i] = unary_backward<Op>(g[i], s[i], p);
  }
}

template <UnaryOp Op, typename T>
void unary_forward_loop(const T* x, T* y, int64_t n, T p) {
  parallel_ranges(n, [x, y, p](int64_t begin, int64_t end) { unary_forward_range<Op>(x, y, begin, end, p); });
}

template <UnaryOp Op, typename T>
void unary_backward_loop(const T* g, const T* s, T* gx, int64_t n, T p) {
  parallel_ranges(n, [g, s, gx, p](int64_t begin, int64_t end) { unary_backward_range<Op>(g, s, gx, begin, end, p); });
}

// Product of the trailing dims along which an operand's strides are all 0 (1 when none).
int64_t constant_run(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t run = 1;
  for (int d = ndim - 1; d >= 0 && (strides[d] == 0 || shape[d] == 1); --d) run *= shape[d];
  return run;
}

template <BinaryOp Op, typename T>
void binary_loop(const T* a, const T* b, T* out, const BroadcastIndex& ix) {
  int64_t n = 1;
  for (int d = 0; d < ix.ndim; ++d) n *= ix.shape[d];
  const bool a_dense = is_dense(ix.ndim, ix.shape, ix.a_strides);
  const bool b_dense = is_dense(ix.ndim, ix.shape, ix.b_strides);
  const bool b_scalar = is_scalar(ix.ndim, ix.b_strides);
  if (a_dense && b_dense) {
    parallel_for(n, [&](int64_t i) { out[i] = binary_apply<Op>(a[i], b[i]); });
    return;
  }
  if (a_dense && b_scalar) {
    const T bv = b[0];
    parallel_for(n, [&](int64_t i) { out[i] = binary_apply<Op>(a[i], bv); });
    return;
  }
  // One operand dense, the other constant along the trailing dims (a per-channel bias or scale on
  // [N, C, H, W]): runs of that length with the offset arithmetic once per run.
  const int64_t a_run = constant_run(ix.ndim, ix.shape, ix.a_strides);
  const int64_t b_run = constant_run(ix.ndim, ix.shape, ix.b_strides);
  if ((a_dense && b_run > 1) || (b_dense && a_run > 1)) {
    const int64_t run = a_dense ? b_run : a_run;
    parallel_for(
        n / run,
        [&](int64_t j) {
          int64_t oa, ob;
          broadcast_offsets(ix, j * run, &oa, &ob);
          T* o = out + j * run;
          if (a_dense) {
            const T* av = a + oa;
            const T bv = b[ob];
            for (int64_t i = 0; i < run; ++i) o[i] = binary_apply<Op>(av[i], bv);
          } else {
            const T* bv = b + ob;
            const T av = a[oa];
            for (int64_t i = 0; i < run; ++i) o[i] = binary_apply<Op>(av, bv[i]);
          }
        },
        std::max<int64_t>(1, kParallelGrain / run));
    return;
  }
  parallel_for(n, [&](int64_t i) {
    int64_t oa, ob;
    broadcast_offsets(ix, i, &oa, &ob);
    out[i] = binary_apply<Op>(a[oa], b[ob]);
  });
}

}  // namespace

template <typename T>
void unary_forward_cpu(UnaryOp op, const T* x, T* y, int64_t n, T p) {
  switch (op) {
    case UnaryOp::kRelu: return unary_forward_loop<UnaryOp::kRelu>(x, y, n, p);
    case UnaryOp::kLeakyRelu: return unary_forward_loop<UnaryOp::kLeakyRelu>(x, y, n, p);
    case UnaryOp::kSigmoid: return unary_forward_loop<UnaryOp::kSigmoid>(x, y, n, p);
    case UnaryOp::kExp: return unary_forward_loop<UnaryOp::kExp>(x, y, n, p);
    case UnaryOp::kLog: return unary_forward_loop<UnaryOp::kLog>(x, y, n, p);
    case UnaryOp::kScale: return unary_forward_loop<UnaryOp::kScale>(x, y, n, p);
  }
}

template <typename T>
void unary_backward_cpu(UnaryOp op, const T* g, const T* s, T* gx, int64_t n, T p) {
  switch (op) {
    case UnaryOp::kRelu: return unary_backward_loop<UnaryOp::kRelu>(g, s, gx, n, p);
    case UnaryOp::kLeakyRelu: return unary_backward_loop<UnaryOp::kLeakyRelu>(g, s, gx, n, p);
    case UnaryOp::kSigmoid: return unary_backward_loop<UnaryOp::kSigmoid>(g, s, gx, n, p);
    case UnaryOp::kExp: return unary_backward_loop<UnaryOp::kExp>(g, s, gx, n, p);
    case UnaryOp::kLog: return unary_backward_loop<UnaryOp::kLog>(g, s, gx, n, p);
    case UnaryOp::kScale: return unary_backward_loop<UnaryOp::kScale>(g, s, gx, n, p);
  }
}

template <typename T>
void binary_cpu(BinaryOp op, const T* a, const T* b, T* out, const BroadcastIndex& ix) {
  switch (op) {
    case BinaryOp::kAdd: return binary_loop<BinaryOp::kAdd>(a, b, out, ix);
    case BinaryOp::kSub: return binary_loop<BinaryOp::kSub>(a, b, out, ix);
    case BinaryOp::kMul: return binary_loop<BinaryOp::kMul>(a, b, out, ix);
    case BinaryOp::kDiv: return binary_loop<BinaryOp::kDiv>(a, b, out, ix);
  }
}

template <typename T>
void fill_cpu(T* y, int64_t n, T value) {
  parallel_for(n, [&](int64_t i) { y[i] = value; });
}

template <typename T>
void accumulate_cpu(T* y, const T* x, int64_t n, T alpha) {
  parallel_for(n, [&](int64_t i) { y[i] += alpha * x[i]; });
}

template <typename T>
void uniform_cpu(T* y, int64_t n, T lo, T hi, uint64_t seed, uint64_t offset) {
  parallel_for(
      n, [&](int64_t i) { y[i] = philox_uniform<T>(seed, offset + i, lo, hi); }, 4096);
}

template <typename T>
void normal_cpu(T* y, int64_t n, T mean, T std, uint64_t seed, uint64_t offset) {
  parallel_for(
      n, [&](int64_t i) { y[i] = philox_normal<T>(seed, offset + i, mean, std); }, 4096);
}

#define LITS_INSTANTIATE(T)                                                             \
  template void unary_forward_cpu<T>(UnaryOp, const T*, T*, int64_t, T);                \
  template void unary_backward_cpu<T>(UnaryOp, const T*, const T*, T*, int64_t, T);     \
  template void binary_cpu<T>(BinaryOp, const T*, const T*, T*, const BroadcastIndex&); \
  template void fill_cpu<T>(T*, int64_t, T);                                            \
  template void accumulate_cpu<T>(T*, const T*, int64_t, T);                            \
  template void uniform_cpu<T>(T*, int64_t, T, T, uint64_t, uint64_t);                  \
  template void normal_cpu<T>(T*, int64_t, T, T, uint64_t, uint64_t);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
