// Float64 gradient check: analytic gradients from backward() against central differences.
// The output is reduced to a scalar with fixed random weights (L = sum(f(x) * R)), so every
// output element contributes with a distinct weight. Non-differentiable points (kinks such as
// ReLU at 0 or ties) are detected by disagreeing one-sided differences and skipped. Large inputs
// are checked at a deterministic random subset of at most `max_elements` positions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lits::testing {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  double kink_tol = 1e-3;      // relative disagreement of one-sided slopes that marks a kink
  int64_t max_elements = 200;  // per input
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  int64_t checked = 0;
  int64_t skipped_kinks = 0;
  double max_abs_error = 0.0;
  std::string report;  // the failures (or a summary)
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` are float64 CPU tensors; those with requires_grad set are checked. The function must
// be deterministic and only read its inputs.
GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace lits::testing
