// Elementwise kernels: unary maps and their backward, broadcast binary arithmetic, fill,
// accumulate (y += alpha * x, used only by the autograd engine), and Philox initialisers.
// The per-element math is in LITS_HD functions below, shared by elementwise.cpp and .cu.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

enum class UnaryOp { kRelu, kLeakyRelu, kSigmoid, kExp, kLog, kScale };
enum class BinaryOp { kAdd, kSub, kMul, kDiv };

// Precision-matched math: expf/logf for float, exp/log for double, on host and device.
LITS_HD float math_exp(float x) { return expf(x); }
LITS_HD double math_exp(double x) { return ::exp(x); }
LITS_HD float math_log(float x) { return logf(x); }
LITS_HD double math_log(double x) { return ::log(x); }

// y = f(x); `p` is the LeakyReLU slope or the scale factor, unused otherwise.
template <UnaryOp Op, typename T>
LITS_HD T unary_forward(T x, T p) {
  if constexpr (Op == UnaryOp::kRelu) return x > T(0) ? x : T(0);
  if constexpr (Op == UnaryOp::kLeakyRelu) return x > T(0) ? x : x * p;
  if constexpr (Op == UnaryOp::kSigmoid) return T(1) / (T(1) + math_exp(-x));
  if constexpr (Op == UnaryOp::kExp) return math_exp(x);
  if constexpr (Op == UnaryOp::kLog) return math_log(x);
  if constexpr (Op == UnaryOp::kScale) return x * p;
}

// Which tensor the backward needs: the input x or the output y (the smaller saved state).
constexpr bool unary_saves_output(UnaryOp op) {
  return op == UnaryOp::kRelu || op == UnaryOp::kSigmoid || op == UnaryOp::kExp;
}

// dL/dx from g = dL/dy and the saved tensor s (x or y, see unary_saves_output).
template <UnaryOp Op, typename T>
LITS_HD T unary_backward(T g, T s, T p) {
  if constexpr (Op == UnaryOp::kRelu) return s > T(0) ? g : T(0);
  if constexpr (Op == UnaryOp::kLeakyRelu) return s > T(0) ? g : g * p;
  if constexpr (Op == UnaryOp::kSigmoid) return g * s * (T(1) - s);
  if constexpr (Op == UnaryOp::kExp) return g * s;
  if constexpr (Op == UnaryOp::kLog) return g / s;
  if constexpr (Op == UnaryOp::kScale) return g * p;
}

template <BinaryOp Op, typename T>
LITS_HD T binary_apply(T a, T b) {
  if constexpr (Op == BinaryOp::kAdd) return a + b;
  if constexpr (Op == BinaryOp::kSub) return a - b;
  if constexpr (Op == BinaryOp::kMul) return a * b;
  if constexpr (Op == BinaryOp::kDiv) return a / b;
}

// ---- CPU (elementwise.cpp); T = float or double ----
// x, y: [n] contiguous
template <typename T>
void unary_forward_cpu(UnaryOp op, const T* x, T* y, int64_t n, T p);
// g, s, gx: [n] contiguous; s is x or y as unary_saves_output says
template <typename T>
void unary_backward_cpu(UnaryOp op, const T* g, const T* s, T* gx, int64_t n, T p);
// a, b: strided per ix; out: [prod(ix.shape)] contiguous
template <typename T>
void binary_cpu(BinaryOp op, const T* a, const T* b, T* out, const BroadcastIndex& ix);
template <typename T>
void fill_cpu(T* y, int64_t n, T value);
// y += alpha * x, both [n]
template <typename T>
void accumulate_cpu(T* y, const T* x, int64_t n, T alpha);
// y[i] = uniform/normal draw for counter offset + i
template <typename T>
void uniform_cpu(T* y, int64_t n, T lo, T hi, uint64_t seed, uint64_t offset);
template <typename T>
void normal_cpu(T* y, int64_t n, T mean, T std, uint64_t seed, uint64_t offset);

// ---- CUDA (elementwise.cu), same contracts, launched on `s` ----
template <typename T>
Status unary_forward_cuda(UnaryOp op, const T* x, T* y, int64_t n, T p, Stream s);
template <typename T>
Status unary_backward_cuda(UnaryOp op, const T* g, const T* sv, T* gx, int64_t n, T p, Stream s);
template <typename T>
Status binary_cuda(BinaryOp op, const T* a, const T* b, T* out, const BroadcastIndex& ix, Stream s);
template <typename T>
Status fill_cuda(T* y, int64_t n, T value, Stream s);
template <typename T>
Status accumulate_cuda(T* y, const T* x, int64_t n, T alpha, Stream s);
template <typename T>
Status uniform_cuda(T* y, int64_t n, T lo, T hi, uint64_t seed, uint64_t offset, Stream s);
template <typename T>
Status normal_cuda(T* y, int64_t n, T mean, T std, uint64_t seed, uint64_t offset, Stream s);

}  // namespace lits::kernels
