// Gradient check implementation (see gradcheck.h).
#include "tests/support/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace lits::testing {

namespace {

double objective(const TensorFn& f, const std::vector<Tensor>& inputs, const Tensor& weights) {
  NoGradGuard no_grad;
  const Tensor y = f(inputs);
  return sum(mul(y, weights)).item();
}

std::vector<int64_t> pick_positions(int64_t n, int64_t cap, std::mt19937_64& rng) {
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (n <= cap) return all;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(cap);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult result;
  std::ostringstream report;
  for (const Tensor& x : inputs) {
    LITS_CHECK(!x.defined() || (x.dtype() == DType::kFloat64 && x.device().is_cpu() && x.is_contiguous()),
               "gradcheck: inputs must be contiguous float64 CPU tensors, got " << x.str());
  }
  // Analytic gradients.
  Tensor weights;
  {
    Generator gen(opt.seed);
    Tensor y0;
    {
      NoGradGuard no_grad;
      y0 = f(inputs);
    }
    weights = normal(y0.shape(), 0.0, 1.0, gen, DType::kFloat64);
  }
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) x.zero_grad();
  const Tensor loss = sum(mul(f(inputs), weights));
  loss.backward();

  std::mt19937_64 rng(opt.seed);
  const double l0 = objective(f, inputs, weights);
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    const Tensor analytic = x.grad().defined() ? x.grad() : Tensor::zeros(x.shape(), DType::kFloat64);
    const double* ga = analytic.data<double>();
    double* px = static_cast<double*>(x.data_ptr());
    for (int64_t i : pick_positions(x.numel(), opt.max_elements, rng)) {
      const double saved = px[i];
      px[i] = saved + opt.eps;
      const double lp = objective(f, inputs, weights);
      px[i] = saved - opt.eps;
      const double lm = objective(f, inputs, weights);
      px[i] = saved;
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double right = (lp - l0) / opt.eps, left = (l0 - lm) / opt.eps;
      if (std::abs(right - left) > opt.kink_tol * std::max(1.0, std::abs(numeric))) {
        ++result.skipped_kinks;
        continue;
      }
      ++result.checked;
      const double err = std::abs(ga[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > opt.atol + opt.rtol * std::max(std::abs(ga[i]), std::abs(numeric))) {
        if (result.ok) report << "gradient mismatch:\n";
        result.ok = false;
        report << "  input " << k << " " << x.str() << " element " << i << ": analytic " << ga[i] << " numeric "
               << numeric << " (abs err " << err << ")\n";
      }
    }
  }
  report << "checked " << result.checked << " elements, skipped " << result.skipped_kinks << " at kinks, max abs error "
         << result.max_abs_error;
  result.report = report.str();
  return result;
}

}  // namespace lits::testing
