// The differentiable op API. Every op checks its inputs (dtype float32/float64, one device,
// shapes) and throws lits::Error naming the op, the shapes/devices involved and what it expected;
// dispatches to the CPU or CUDA kernel; and, when grad mode is on and an input requires grad,
// records its backward. Each op's name is in engine/op_registry.cpp, which the tests use to demand
// a float64 gradient check and a CUDA parity case for every one.
#pragma once

#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace lits {

// ---- arithmetic with broadcasting (numpy rules: trailing dims aligned, size 1 stretches) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double factor);  // x * factor
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator*(const Tensor& x, double f) { return scale(x, f); }
// The shape `a` and `b` broadcast to; throws naming both shapes when they do not.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- activations and pointwise maps ----
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope);
Tensor sigmoid(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
// Softmax over dim 1 (the channels of [N, C, ...]); x needs at least 2 dims.
Tensor softmax(const Tensor& x);

// ---- reductions ----
Tensor sum(const Tensor& x);  // all elements -> shape []
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// Sums a broadcast result back to `shape` (the backward of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- shape ops ----
Tensor reshape(const Tensor& x, const Shape& shape);                     // a view when x is contiguous
Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length);  // always a view
Tensor contiguous(const Tensor& x);                                      // x itself when already contiguous
Tensor concat(const std::vector<Tensor>& xs, int dim = 1);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim = 1);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);  // [M, K] x [K, N]
// x [N, in], weight [out, in], bias [out] (may be undefined) -> x weight^T + bias
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- initialisation: new tensors (no autograd history) ----
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen = default_generator(),
               DType dtype = DType::kFloat32, Device device = Device::cpu());
Tensor normal(const Shape& shape, double mean, double std, Generator& gen = default_generator(),
              DType dtype = DType::kFloat32, Device device = Device::cpu());

}  // namespace lits
