// Gradient checks (float64, CPU) and CUDA parity tests (float32) for every differentiable op,
// at several shapes: odd sizes, batch > 1, broadcasting, views, repeated use of one input.
#include "engine/ops.h"
#include "tests/support/op_case.h"

namespace lits::testing {
namespace {

// ---- arithmetic with broadcasting ----
LITS_OP_CASE(add, same_shape) {
  return {[](const Inputs& x) { return add(x[0], x[1]); }, normal_inputs({{2, 3, 5}, {2, 3, 5}})};
}
LITS_OP_CASE(add, per_channel) {
  return {[](const Inputs& x) { return add(x[0], x[1]); }, normal_inputs({{2, 4, 3, 5}, {1, 4, 1, 1}})};
}
LITS_OP_CASE(add, scalar) {
  return {[](const Inputs& x) { return add(x[0], x[1]); }, normal_inputs({{3, 5, 2}, {}})};
}
LITS_OP_CASE(add, both_broadcast) {
  return {[](const Inputs& x) { return add(x[0], x[1]); }, normal_inputs({{3, 1}, {1, 4}})};
}
LITS_OP_CASE(add, same_input_twice) {
  return {[](const Inputs& x) { return add(x[0], x[0]); }, normal_inputs({{2, 3, 4}})};
}
LITS_OP_CASE(sub, per_channel) {
  return {[](const Inputs& x) { return sub(x[0], x[1]); }, normal_inputs({{2, 4, 3, 5}, {1, 4, 1, 1}})};
}
LITS_OP_CASE(sub, scalar_left) {
  return {[](const Inputs& x) { return sub(x[1], x[0]); }, normal_inputs({{3, 5, 2}, {1}})};
}
LITS_OP_CASE(mul, same_shape) {
  return {[](const Inputs& x) { return mul(x[0], x[1]); }, normal_inputs({{2, 3, 5, 3}, {2, 3, 5, 3}})};
}
LITS_OP_CASE(mul, per_channel) {
  return {[](const Inputs& x) { return mul(x[0], x[1]); }, normal_inputs({{3, 4, 5, 2}, {1, 4, 1, 1}})};
}
LITS_OP_CASE(mul, square) {
  return {[](const Inputs& x) { return mul(x[0], x[0]); }, normal_inputs({{4, 7}})};
}
LITS_OP_CASE(div, same_shape) {
  return {[](const Inputs& x) { return div(x[0], x[1]); }, uniform_inputs({{2, 3, 5}, {2, 3, 5}}, 0.5, 2.0)};
}
LITS_OP_CASE(div, per_channel) {
  return {[](const Inputs& x) { return div(x[0], x[1]); }, uniform_inputs({{2, 3, 4, 3}, {1, 3, 1, 1}}, 0.5, 2.0)};
}
LITS_OP_CASE(scale, basic) {
  return {[](const Inputs& x) { return scale(x[0], -2.5); }, normal_inputs({{2, 3, 7}})};
}

// ---- activations and pointwise maps ----
LITS_OP_CASE(relu, odd_shape) {
  return {[](const Inputs& x) { return relu(x[0]); }, normal_inputs({{3, 5, 7}})};
}
LITS_OP_CASE(leaky_relu, slope_0_05) {
  return {[](const Inputs& x) { return leaky_relu(x[0], 0.05); }, normal_inputs({{2, 3, 5, 7}})};
}
LITS_OP_CASE(sigmoid, odd_shape) {
  return {[](const Inputs& x) { return sigmoid(x[0]); }, normal_inputs({{2, 5, 3, 3}})};
}
LITS_OP_CASE(exp, odd_shape) {
  return {[](const Inputs& x) { return exp(x[0]); }, normal_inputs({{3, 7, 5}})};
}
LITS_OP_CASE(log, positive) {
  return {[](const Inputs& x) { return log(x[0]); }, uniform_inputs({{3, 5, 4}}, 0.2, 3.0)};
}
LITS_OP_CASE(softmax, nchw) {
  return {[](const Inputs& x) { return softmax(x[0]); }, normal_inputs({{2, 3, 5, 4}})};
}
LITS_OP_CASE(softmax, two_dims) {
  return {[](const Inputs& x) { return softmax(x[0]); }, normal_inputs({{4, 7}})};
}
LITS_OP_CASE(softmax, one_channel) {
  return {[](const Inputs& x) { return softmax(mul(x[0], x[1])); }, normal_inputs({{3, 1, 4}, {3, 1, 4}})};
}

// ---- reductions ----
LITS_OP_CASE(sum, all) {
  return {[](const Inputs& x) { return sum(x[0]); }, normal_inputs({{2, 3, 5, 7}})};
}
LITS_OP_CASE(sum, axes_1_3) {
  return {[](const Inputs& x) { return sum(x[0], {1, 3}); }, normal_inputs({{2, 3, 5, 7}})};
}
LITS_OP_CASE(sum, batch_keepdim) {
  return {[](const Inputs& x) { return sum(x[0], {0}, true); }, normal_inputs({{4, 3, 5}})};
}
LITS_OP_CASE(mean, all) {
  return {[](const Inputs& x) { return mean(x[0]); }, normal_inputs({{3, 4, 5}})};
}
LITS_OP_CASE(mean, spatial) {
  return {[](const Inputs& x) { return mean(x[0], {2, 3}, true); }, normal_inputs({{2, 3, 5, 4}})};
}
LITS_OP_CASE(sum_to, per_channel) {
  return {[](const Inputs& x) { return sum_to(x[0], {1, 3, 1, 1}); }, normal_inputs({{2, 3, 5, 4}})};
}
LITS_OP_CASE(sum_to, leading_dims) {
  return {[](const Inputs& x) { return sum_to(x[0], {5}); }, normal_inputs({{2, 3, 5}})};
}

// ---- shape ops ----
LITS_OP_CASE(reshape, contiguous) {
  return {[](const Inputs& x) { return mul(reshape(x[0], {6, 4}), x[1]); }, normal_inputs({{2, 3, 4}, {6, 4}})};
}
LITS_OP_CASE(reshape, of_view) {
  return {[](const Inputs& x) { return reshape(narrow(x[0], 1, 1, 3), {2, 9}); }, normal_inputs({{2, 5, 3}})};
}
LITS_OP_CASE(narrow, channels) {
  return {[](const Inputs& x) { return exp(narrow(x[0], 1, 2, 3)); }, normal_inputs({{2, 5, 4, 3}})};
}
LITS_OP_CASE(narrow, width) {
  return {[](const Inputs& x) { return narrow(x[0], 3, 1, 1); }, normal_inputs({{2, 3, 4, 3}})};
}
LITS_OP_CASE(contiguous, of_view) {
  return {[](const Inputs& x) { return mul(contiguous(narrow(x[0], 2, 1, 2)), x[1]); },
          normal_inputs({{2, 3, 4, 5}, {2, 3, 2, 5}})};
}
LITS_OP_CASE(concat, channels) {
  return {[](const Inputs& x) {
            return concat({x[0], x[1], x[2]}, 1);
          },
          normal_inputs({{2, 3, 4, 3}, {2, 1, 4, 3}, {2, 2, 4, 3}})};
}
LITS_OP_CASE(concat, batch_and_reuse) {
  return {[](const Inputs& x) { return concat({x[0], exp(x[1]), x[0]}, 0); }, normal_inputs({{1, 3, 2}, {2, 3, 2}})};
}
LITS_OP_CASE(split, channels) {
  return {[](const Inputs& x) {
            const auto parts = split(x[0], {2, 5}, 1);
            return concat({exp(parts[1]), scale(parts[0], 3.0)}, 1);
          },
          normal_inputs({{2, 7, 3, 3}})};
}
LITS_OP_CASE(split, one_part_unused) {
  return {[](const Inputs& x) { return sigmoid(split(x[0], {1, 2, 2}, 1)[1]); }, normal_inputs({{3, 5, 2}})};
}

// ---- linear algebra ----
LITS_OP_CASE(matmul, rectangular) {
  return {[](const Inputs& x) { return matmul(x[0], x[1]); }, normal_inputs({{3, 4}, {4, 5}})};
}
LITS_OP_CASE(matmul, row_vector) {
  return {[](const Inputs& x) { return matmul(x[0], x[1]); }, normal_inputs({{1, 7}, {7, 2}})};
}
LITS_OP_CASE(linear, with_bias) {
  return {[](const Inputs& x) { return linear(x[0], x[1], x[2]); }, normal_inputs({{4, 6}, {3, 6}, {3}})};
}
LITS_OP_CASE(linear, no_bias) {
  return {[](const Inputs& x) { return linear(x[0], x[1], Tensor()); }, normal_inputs({{5, 3}, {2, 3}})};
}

}  // namespace
}  // namespace lits::testing
