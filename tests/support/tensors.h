// Small helpers for building test inputs.
#pragma once

#include <cstdint>

#include "engine/ops.h"
#include "engine/tensor.h"

namespace lits::testing {

// Seeded normal values (never zeros), optionally requiring grad.
inline Tensor randn(const Shape& shape, uint64_t seed, DType dtype = DType::kFloat64, bool requires_grad = true) {
  Generator gen(seed);
  Tensor t = normal(shape, 0.0, 1.0, gen, dtype);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// Seeded uniform values in [lo, hi).
inline Tensor randu(const Shape& shape, double lo, double hi, uint64_t seed, DType dtype = DType::kFloat64,
                    bool requires_grad = true) {
  Generator gen(seed);
  Tensor t = uniform(shape, lo, hi, gen, dtype);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

}  // namespace lits::testing
