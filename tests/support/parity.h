// CPU/CUDA parity: run the same function on float32 inputs on the CPU and on the GPU (inputs are
// drawn once on the CPU with a seeded generator and copied over), then compare outputs and, for
// inputs that require grad, the gradients of L = sum(f(x) * R). Reports max abs / rel error.
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"
#include "tests/support/gradcheck.h"

namespace lits::testing {

struct ParityResult {
  bool ok = true;
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;
  std::string report;
};

// `cpu_inputs`: CPU tensors (float32); requires_grad marks the ones whose gradients to compare.
// Element passes when |cuda - cpu| <= atol + rtol * |cpu|.
ParityResult cuda_parity(const TensorFn& f, const std::vector<Tensor>& cpu_inputs, double rtol = 1e-5,
                         double atol = 1e-6);

// Same comparison for two tensors (any devices), used by the parity cases that are not TensorFns.
ParityResult compare_tensors(const std::string& what, const Tensor& expected, const Tensor& actual, double rtol,
                             double atol);

}  // namespace lits::testing
