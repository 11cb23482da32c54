// BatchNorm and GroupNorm: values against statistics computed here, the running-statistics update
// (momentum 0.1, unbiased variance), gradient checks, CUDA parity, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"

namespace lits::testing {
namespace {

TEST(Norm, GroupNormMatchesStatisticsOfEachGroup) {
  const int N = 2, C = 6, H = 3, W = 4, G = 3, cg = C / G, HW = H * W;
  const Tensor x = randn({N, C, H, W}, 1, DType::kFloat64, false);
  const Tensor gamma = randn({C}, 2, DType::kFloat64, false), beta = randn({C}, 3, DType::kFloat64, false);
  const std::vector<double> y = group_norm(x, gamma, beta, G, 1e-5).to_vector();
  const std::vector<double> xv = x.to_vector(), gv = gamma.to_vector(), bv = beta.to_vector();
  for (int n = 0; n < N; ++n)
    for (int g = 0; g < G; ++g) {
      double m = 0, v = 0;
      const int base = (n * C + g * cg) * HW;
      for (int i = 0; i < cg * HW; ++i) m += xv[base + i];
      m /= cg * HW;
      for (int i = 0; i < cg * HW; ++i) v += (xv[base + i] - m) * (xv[base + i] - m);
      v /= cg * HW;
      for (int i = 0; i < cg * HW; ++i) {
        const int c = g * cg + i / HW;
        EXPECT_NEAR(y[base + i], (xv[base + i] - m) / std::sqrt(v + 1e-5) * gv[c] + bv[c], 1e-12);
      }
    }
}

TEST(Norm, BatchNormTrainingUpdatesRunningStatisticsLikePyTorch) {
  const int N = 3, C = 2, HW = 5;
  const Tensor x = randn({N, C, 1, HW}, 4, DType::kFloat64, false);
  const Tensor gamma = Tensor::ones({C}, DType::kFloat64), beta = Tensor::zeros({C}, DType::kFloat64);
  const Tensor rm = Tensor::from_values({0.5, -1.0}, {C}, DType::kFloat64);
  const Tensor rv = Tensor::from_values({2.0, 1.0}, {C}, DType::kFloat64);
  const std::vector<double> y = batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5).to_vector();
  const std::vector<double> xv = x.to_vector();
  for (int c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) m += xv[(n * C + c) * HW + i];
    m /= N * HW;
    for (int n = 0; n < N; ++n)
      for (int i = 0; i < HW; ++i) v += std::pow(xv[(n * C + c) * HW + i] - m, 2);
    const double biased = v / (N * HW), unbiased = v / (N * HW - 1);
    EXPECT_NEAR(rm.to_vector()[c], 0.9 * (c == 0 ? 0.5 : -1.0) + 0.1 * m, 1e-12);
    EXPECT_NEAR(rv.to_vector()[c], 0.9 * (c == 0 ? 2.0 : 1.0) + 0.1 * unbiased, 1e-12);
    EXPECT_NEAR(y[c * HW], (xv[c * HW] - m) / std::sqrt(biased + 1e-5), 1e-12);
  }
}

TEST(Norm, BatchNormEvaluationUsesRunningStatistics) {
  const Tensor x = Tensor::from_values({1.0, 3.0, -2.0, 4.0}, {2, 2, 1, 1}, DType::kFloat64);
  const Tensor gamma = Tensor::from_values({2.0, 1.0}, {2}, DType::kFloat64);
  const Tensor beta = Tensor::from_values({0.5, 0.0}, {2}, DType::kFloat64);
  const Tensor rm = Tensor::from_values({1.0, 2.0}, {2}, DType::kFloat64);
  const Tensor rv = Tensor::from_values({4.0, 1.0}, {2}, DType::kFloat64);
  const std::vector<double> y = batch_norm(x, gamma, beta, rm, rv, false, 0.1, 0.0).to_vector();
  EXPECT_NEAR(y[0], (1.0 - 1.0) / 2.0 * 2.0 + 0.5, 1e-15);
  EXPECT_NEAR(y[1], (3.0 - 2.0) / 1.0, 1e-15);
  EXPECT_NEAR(y[2], (-2.0 - 1.0) / 2.0 * 2.0 + 0.5, 1e-15);
  EXPECT_EQ(rm.to_vector(), (std::vector<double>{1.0, 2.0})) << "evaluation must not touch the running statistics";
}

// ---- gradient checks and CUDA parity ----
OpCase gn_case(Shape x, int64_t groups) {
  OpCase c{[groups](const Inputs& in) { return group_norm(in[0], in[1], in[2], groups, 1e-5); },
           normal_inputs({x, Shape{x[1]}, Shape{x[1]}}, 31)};
  c.rtol = 1e-4;
  c.atol = 1e-5;
  return c;
}

OpCase bn_case(Shape x, bool training) {
  OpCase c{[training](const Inputs& in) {
             const int64_t C = in[0].shape()[1];
             // Fresh running statistics each call keep the function deterministic.
             const Tensor rm = Tensor::full({C}, 0.2, in[0].dtype(), in[0].device());
             const Tensor rv = Tensor::full({C}, 1.5, in[0].dtype(), in[0].device());
             return batch_norm(in[0], in[1], in[2], rm, rv, training, 0.1, 1e-5);
           },
           normal_inputs({x, Shape{x[1]}, Shape{x[1]}}, 37)};
  c.rtol = 1e-4;
  c.atol = 1e-5;
  return c;
}

LITS_OP_CASE(group_norm, groups3_batch2_odd) { return gn_case({2, 6, 3, 5}, 3); }
LITS_OP_CASE(group_norm, instance_norm) { return gn_case({2, 4, 3, 3}, 4); }
LITS_OP_CASE(group_norm, one_group) { return gn_case({3, 4, 2, 3}, 1); }
LITS_OP_CASE(batch_norm, training_batch3_odd) { return bn_case({3, 4, 3, 5}, true); }
LITS_OP_CASE(batch_norm, training_single_sample) { return bn_case({1, 3, 4, 3}, true); }
LITS_OP_CASE(batch_norm, evaluation) { return bn_case({2, 3, 3, 3}, false); }

LITS_PARITY_TEST(group_norm, large_unet_activation) {
  expect_parity(
      [](const Inputs& x) { return group_norm(x[0], x[1], x[2], 32, 1e-5); },
      {randn({4, 64, 64, 64}, 1, DType::kFloat32), randn({64}, 2, DType::kFloat32), randn({64}, 3, DType::kFloat32)},
      1e-4, 1e-4);
}

LITS_PARITY_TEST(batch_norm, running_statistics_update) {
  const Tensor x = randn({4, 8, 32, 32}, 4, DType::kFloat32, false);
  const Tensor gamma = Tensor::ones({8}), beta = Tensor::zeros({8});
  const Tensor rm = Tensor::zeros({8}), rv = Tensor::ones({8});
  const Device gpu = Device::cuda(0);
  const Tensor rm_g = rm.to(gpu), rv_g = rv.to(gpu);
  batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5);
  batch_norm(x.to(gpu), gamma.to(gpu), beta.to(gpu), rm_g, rv_g, true, 0.1, 1e-5);
  const auto a = compare_tensors("running_mean", rm, rm_g, 1e-5, 1e-6);
  const auto b = compare_tensors("running_var", rv, rv_g, 1e-5, 1e-6);
  EXPECT_TRUE(a.ok) << a.report;
  EXPECT_TRUE(b.ok) << b.report;
}

// ---- bad input ----
TEST(Norm, BadInputNamesLayerAndShape) {
  const Tensor x = Tensor::zeros({2, 40, 4, 4});
  expect_contains(error_of([&] { group_norm(x, Tensor::ones({40}), Tensor::zeros({40}), 24, 1e-5); }),
                  {"group_norm", "40 channels", "24 groups", "[2, 40, 4, 4]"});
  expect_contains(error_of([&] { group_norm(x, Tensor::ones({20}), Tensor::zeros({40}), 4, 1e-5); }),
                  {"group_norm", "[20]", "expected both [40]"});
  const Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  expect_contains(
      error_of([&] {
        batch_norm(Tensor::zeros({1, 3, 1, 1}), Tensor::ones({3}), Tensor::zeros({3}), rm, rv, true, 0.1, 1e-5);
      }),
      {"batch_norm", "[1, 3, 1, 1]", "one value per channel"});
  expect_contains(
      error_of([&] {
        batch_norm(Tensor::zeros({2, 4, 2, 2}), Tensor::ones({4}), Tensor::zeros({4}), rm, rv, true, 0.1, 1e-5);
      }),
      {"batch_norm", "running statistics", "[4]"});
}

}  // namespace
}  // namespace lits::testing
