// Forward values of the ops against numbers worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

std::vector<double> v(const Tensor& t) { return t.to_vector(); }

TEST(OpsValues, BroadcastArithmetic) {
  const Tensor a = Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = Tensor::from_values({10, 20, 30}, {3});
  const Tensor col = Tensor::from_values({100, 200}, {2, 1});
  EXPECT_EQ(v(add(a, row)), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(v(sub(a, col)), (std::vector<double>{-99, -98, -97, -196, -195, -194}));
  EXPECT_EQ(v(mul(a, Tensor::full({}, 2.0))), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(v(div(a, Tensor::full({1}, 2.0))), (std::vector<double>{0.5, 1, 1.5, 2, 2.5, 3}));
  EXPECT_EQ(add(row, col).shape(), Shape({2, 3}));
  EXPECT_EQ(v(scale(a, -1.0))[5], -6);
}

TEST(OpsValues, PerChannelBroadcastOnNchw) {
  const Tensor x = Tensor::ones({2, 3, 2, 2});
  const Tensor b = Tensor::from_values({1, 2, 3}, {1, 3, 1, 1});
  const std::vector<double> y = v(add(x, b));
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 4; ++i) EXPECT_EQ(y[(n * 3 + c) * 4 + i], 2.0 + c);
}

TEST(OpsValues, Activations) {
  const Tensor x = Tensor::from_values({-2, -0.5, 0, 1.5}, {4}, DType::kFloat64);
  EXPECT_EQ(v(relu(x)), (std::vector<double>{0, 0, 0, 1.5}));
  EXPECT_EQ(v(leaky_relu(x, 0.05)), (std::vector<double>{-0.1, -0.025, 0, 1.5}));
  EXPECT_NEAR(v(sigmoid(x))[0], 1.0 / (1.0 + std::exp(2.0)), 1e-15);
  EXPECT_NEAR(v(exp(x))[3], std::exp(1.5), 1e-15);
  EXPECT_NEAR(v(log(Tensor::from_values({std::exp(2.0)}, {1}, DType::kFloat64)))[0], 2.0, 1e-15);
}

TEST(OpsValues, SoftmaxOverChannels) {
  // [1, 2, 2]: columns (1, 3) and (2, 2).
  const Tensor x = Tensor::from_values({1, 2, 3, 2}, {1, 2, 2}, DType::kFloat64);
  const std::vector<double> y = v(softmax(x));
  EXPECT_NEAR(y[0], 1.0 / (1.0 + std::exp(2.0)), 1e-15);
  EXPECT_NEAR(y[2], std::exp(2.0) / (1.0 + std::exp(2.0)), 1e-15);
  EXPECT_NEAR(y[1], 0.5, 1e-15);
  EXPECT_NEAR(y[3], 0.5, 1e-15);
  // Large logits stay finite (max subtracted).
  const std::vector<double> big = v(softmax(Tensor::from_values({1000, 0}, {1, 2})));
  EXPECT_NEAR(big[0], 1.0, 1e-7);
  EXPECT_EQ(big[1], 0.0);
}

TEST(OpsValues, Reductions) {
  const Tensor x = Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(x).item(), 21);
  EXPECT_EQ(sum(x).ndim(), 0);
  EXPECT_EQ(v(sum(x, {0})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(v(sum(x, {1})), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum(x, {1}, true).shape(), Shape({2, 1}));
  EXPECT_EQ(v(mean(x, {-1})), (std::vector<double>{2, 5}));
  EXPECT_EQ(mean(x).item(), 3.5);
  EXPECT_EQ(v(sum_to(x, {1, 3})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(v(sum_to(x, {3})), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(v(sum_to(x, {2, 1})), (std::vector<double>{6, 15}));
  EXPECT_THROW(sum(x, {2}), Error);
  EXPECT_THROW(sum_to(x, {4}), Error);
}

TEST(OpsValues, LargeSumIsAccurateAndThreadIndependent) {
  // 2^22 copies of 0.1f: float accumulation would drift far; the kernels accumulate in double.
  const Tensor x = Tensor::full({1 << 22}, 0.1);
  EXPECT_NEAR(sum(x).item(), 0.1f * (1 << 22), 1.0);
}

TEST(OpsValues, ConcatAndSplit) {
  const Tensor a = Tensor::from_values({1, 2, 3, 4}, {2, 2});
  const Tensor b = Tensor::from_values({5, 6}, {2, 1});
  const Tensor c = concat({a, b}, 1);
  EXPECT_EQ(v(c), (std::vector<double>{1, 2, 5, 3, 4, 6}));
  const auto parts = split(c, {1, 2}, 1);
  EXPECT_EQ(v(parts[0]), (std::vector<double>{1, 3}));
  EXPECT_EQ(v(parts[1]), (std::vector<double>{2, 5, 4, 6}));
  EXPECT_THROW(concat({a, Tensor::zeros({3, 1})}, 1), Error);
  EXPECT_THROW(split(c, {1, 1}, 1), Error);
}

TEST(OpsValues, MatmulAndLinear) {
  const Tensor a = Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_values({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_EQ(v(matmul(a, b)), (std::vector<double>{58, 64, 139, 154}));
  const Tensor w = Tensor::from_values({1, 0, -1, 2, 1, 0}, {2, 3});
  const Tensor bias = Tensor::from_values({0.5, -0.5}, {2});
  EXPECT_EQ(v(linear(a, w, bias)), (std::vector<double>{-1.5, 3.5, -1.5, 12.5}));
  EXPECT_THROW(matmul(a, a), Error);
}

}  // namespace
}  // namespace lits::testing
