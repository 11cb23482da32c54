// One definition serves both checks of an op: a float64 gradient check on the CPU and a float32
// CUDA-vs-CPU parity test, from the same function and the same seeded input shapes.
//
//   LITS_OP_CASE(add, per_channel) {
//     return {[](const Inputs& x) { return add(x[0], x[1]); }, normal_inputs({{2, 4, 3, 5}, {1, 4, 1, 1}})};
//   }
#pragma once

#include <functional>
#include <vector>

#include "tests/support/op_cases.h"
#include "tests/support/tensors.h"

namespace lits::testing {

using Inputs = std::vector<Tensor>;
using InputMaker = std::function<Inputs(DType)>;

struct OpCase {
  TensorFn fn;
  InputMaker inputs;
  double rtol = 1e-5;  // parity tolerances (float32)
  double atol = 1e-5;
  GradcheckOptions gradcheck = {};
};

// Standard-normal inputs of the given shapes, all requiring grad, seeded by position.
inline InputMaker normal_inputs(std::vector<Shape> shapes, uint64_t seed = 7) {
  return [shapes, seed](DType dtype) {
    Inputs xs;
    for (size_t i = 0; i < shapes.size(); ++i) xs.push_back(randn(shapes[i], seed + 31 * i, dtype));
    return xs;
  };
}

// Uniform inputs in [lo, hi) (e.g. positive values for log, denominators for div).
inline InputMaker uniform_inputs(std::vector<Shape> shapes, double lo, double hi, uint64_t seed = 11) {
  return [shapes, lo, hi, seed](DType dtype) {
    Inputs xs;
    for (size_t i = 0; i < shapes.size(); ++i) xs.push_back(randu(shapes[i], lo, hi, seed + 31 * i, dtype));
    return xs;
  };
}

}  // namespace lits::testing

#define LITS_OP_CASE(op, name)                                              \
  static ::lits::testing::OpCase lits_case_##op##_##name();                 \
  LITS_GRADCHECK_TEST(op, name) {                                           \
    const auto c = lits_case_##op##_##name();                               \
    EXPECT_GRADCHECK(c.fn, c.inputs(::lits::DType::kFloat64), c.gradcheck); \
  }                                                                         \
  LITS_PARITY_TEST(op, name) {                                              \
    const auto c = lits_case_##op##_##name();                               \
    EXPECT_PARITY(c.fn, c.inputs(::lits::DType::kFloat32), c.rtol, c.atol); \
  }                                                                         \
  static ::lits::testing::OpCase lits_case_##op##_##name()
