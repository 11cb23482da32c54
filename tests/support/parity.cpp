// Parity helper implementation (see parity.h).
#include "tests/support/parity.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace lits::testing {

ParityResult compare_tensors(const std::string& what, const Tensor& expected, const Tensor& actual, double rtol,
                             double atol) {
  ParityResult r;
  std::ostringstream os;
  if (!(expected.shape() == actual.shape())) {
    r.ok = false;
    r.report = what + ": shape " + actual.shape().str() + " vs " + expected.shape().str();
    return r;
  }
  const std::vector<double> e = expected.to_vector(), a = actual.to_vector();
  int64_t bad = 0, first_bad = -1;
  for (size_t i = 0; i < e.size(); ++i) {
    const double err = std::abs(a[i] - e[i]);
    const bool finite = std::isfinite(a[i]) == std::isfinite(e[i]);
    r.max_abs_error = std::max(r.max_abs_error, err);
    if (std::abs(e[i]) > 1e-30) r.max_rel_error = std::max(r.max_rel_error, err / std::abs(e[i]));
    if (!finite || err > atol + rtol * std::abs(e[i])) {
      if (first_bad < 0) first_bad = static_cast<int64_t>(i);
      ++bad;
    }
  }
  os << what << ": max abs error " << r.max_abs_error << ", max rel error " << r.max_rel_error;
  if (bad > 0) {
    r.ok = false;
    os << "; " << bad << " of " << e.size() << " elements out of tolerance (first: element " << first_bad
       << " expected " << e[first_bad] << " got " << a[first_bad] << ")";
  }
  r.report = os.str();
  return r;
}

ParityResult cuda_parity(const TensorFn& f, const std::vector<Tensor>& cpu_inputs, double rtol, double atol) {
  const Device gpu = Device::cuda(0);
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& x : cpu_inputs) {
    if (!x.defined()) {
      gpu_inputs.emplace_back();
      continue;
    }
    Tensor g = x.detach().to(gpu);
    if (x.requires_grad()) g.set_requires_grad(true);
    gpu_inputs.push_back(g);
  }
  for (const Tensor& x : cpu_inputs)
    if (x.defined() && x.requires_grad()) x.zero_grad();

  const Tensor y_cpu = f(cpu_inputs);
  const Tensor y_gpu = f(gpu_inputs);
  ParityResult total = compare_tensors("output", y_cpu, y_gpu, rtol, atol);
  std::string report = total.report;

  if (y_cpu.requires_grad()) {
    Generator gen(99);
    const Tensor w = normal(y_cpu.shape(), 0.0, 1.0, gen, y_cpu.dtype());
    sum(mul(y_cpu, w)).backward();
    sum(mul(y_gpu, w.to(gpu))).backward();
    for (size_t k = 0; k < cpu_inputs.size(); ++k) {
      if (!cpu_inputs[k].defined() || !cpu_inputs[k].requires_grad()) continue;
      const ParityResult r =
          compare_tensors("grad of input " + std::to_string(k), cpu_inputs[k].grad(), gpu_inputs[k].grad(), rtol, atol);
      total.ok = total.ok && r.ok;
      total.max_abs_error = std::max(total.max_abs_error, r.max_abs_error);
      total.max_rel_error = std::max(total.max_rel_error, r.max_rel_error);
      report += "\n" + r.report;
    }
  }
  total.report = report;
  return total;
}

}  // namespace lits::testing
