// The autograd engine itself: summed gradients in diamond graphs, leaf accumulation, release of
// saved tensors after backward (checked with the allocator's live bytes), retain_graph,
// NoGradGuard, and the errors for misuse.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

TEST(Autograd, DiamondSumsGradients) {
  // y = relu(x) * exp(x): x reaches y along two paths, dy/dx = [x>0](e^x) + relu(x) e^x.
  const Tensor x = Tensor::from_values({-1.5, 0.5, 2.0}, {3}, DType::kFloat64).set_requires_grad(true);
  const Tensor y = sum(mul(relu(x), exp(x)));
  y.backward();
  const std::vector<double> g = x.grad().to_vector();
  const std::vector<double> xs = {-1.5, 0.5, 2.0};
  for (int i = 0; i < 3; ++i) {
    const double expect = (xs[i] > 0 ? std::exp(xs[i]) : 0.0) + std::max(xs[i], 0.0) * std::exp(xs[i]);
    EXPECT_NEAR(g[i], expect, 1e-12) << "element " << i;
  }
}

TEST(Autograd, SameTensorTwiceInOneOp) {
  const Tensor x = Tensor::from_values({1.0, -2.0}, {2}, DType::kFloat64).set_requires_grad(true);
  sum(add(x, x)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.0, 2.0}));
  x.zero_grad();
  sum(mul(x, x)).backward();  // d(x^2) = 2x
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.0, -4.0}));
}

TEST(Autograd, LeafGradAccumulatesAcrossBackwardCalls) {
  const Tensor x = Tensor::from_values({1.0, 2.0, 3.0}, {3}, DType::kFloat64).set_requires_grad(true);
  sum(scale(x, 3.0)).backward();
  sum(scale(x, 0.5)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3.5, 3.5, 3.5}));
}

TEST(Autograd, PassThroughGradientIsNotShared) {
  // add hands the same gradient to both leaves; each must own its copy.
  const Tensor a = Tensor::ones({4}, DType::kFloat64).set_requires_grad(true);
  const Tensor b = Tensor::ones({4}, DType::kFloat64).set_requires_grad(true);
  sum(add(a, b)).backward();
  sum(scale(a, 2.0)).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>(4, 3.0)));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<double>(4, 1.0)));
}

TEST(Autograd, SavedTensorsReleasedAfterBackward) {
  const Device cpu = Device::cpu();
  const Tensor x = randn({64, 64}, 3, DType::kFloat32);
  const int64_t baseline = allocator_stats(cpu).live_bytes;
  // Several intermediates, each saved by the next op's backward.
  Tensor loss = sum(mul(sigmoid(exp(scale(x, 0.1))), relu(x)));
  EXPECT_GT(allocator_stats(cpu).live_bytes, baseline + 3 * 64 * 64 * 4) << "intermediates should be alive";
  loss.backward();
  // Left: the loss value (one float) and x.grad.
  EXPECT_EQ(allocator_stats(cpu).live_bytes, baseline + x.grad().nbytes() + loss.nbytes());
}

TEST(Autograd, RetainGraphKeepsSavedTensorsAndAllowsASecondBackward) {
  const Tensor x = randn({32, 32}, 4, DType::kFloat32);
  Tensor loss = sum(mul(exp(x), x));
  const int64_t before = allocator_stats(Device::cpu()).live_bytes;
  loss.backward(Tensor(), /*retain_graph=*/true);
  const int64_t after = allocator_stats(Device::cpu()).live_bytes;
  EXPECT_EQ(after, before + x.grad().nbytes()) << "retained graph keeps its saved tensors";
  const std::vector<double> g1 = x.grad().to_vector();
  loss.backward();
  const std::vector<double> g2 = x.grad().to_vector();
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g2[i], 2 * g1[i], 1e-5 * std::abs(g1[i]) + 1e-6);
}

TEST(Autograd, SecondBackwardWithoutRetainIsAnError) {
  const Tensor x = randn({3}, 5);
  Tensor loss = sum(exp(x));
  loss.backward();
  try {
    loss.backward();
    FAIL() << "expected lits::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a second time"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'sum'"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  const Tensor x = randn({3}, 6);
  Tensor y;
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    y = exp(x);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_THROW(sum(y).backward(), Error);
}

TEST(Autograd, GraphRecordsOpNamesAndEdges) {
  const Tensor a = randn({2, 2}, 7), b = randn({2, 2}, 8, DType::kFloat64, false);
  const Tensor c = mul(a, b);
  ASSERT_NE(c.grad_fn(), nullptr);
  EXPECT_EQ(c.grad_fn()->name(), "mul");
  ASSERT_EQ(c.grad_fn()->next_edges().size(), 2u);
  EXPECT_NE(c.grad_fn()->next_edges()[0].node, nullptr);
  EXPECT_EQ(c.grad_fn()->next_edges()[1].node, nullptr) << "b does not require grad";
  EXPECT_TRUE(a.is_leaf());
  EXPECT_FALSE(c.is_leaf());
}

TEST(Autograd, NonScalarBackwardNeedsAGradient) {
  const Tensor x = randn({3}, 9);
  const Tensor y = exp(x);
  EXPECT_THROW(y.backward(), Error);
  const Tensor g = Tensor::from_values({1.0, 0.0, 2.0}, {3}, DType::kFloat64);
  y.backward(g);
  const std::vector<double> xv = x.to_vector(), gv = x.grad().to_vector();
  EXPECT_NEAR(gv[0], std::exp(xv[0]), 1e-12);
  EXPECT_EQ(gv[1], 0.0);
  EXPECT_NEAR(gv[2], 2 * std::exp(xv[2]), 1e-12);
}

TEST(Autograd, InPlaceOnATensorThatRequiresGradIsRefused) {
  Tensor x = randn({3}, 10);
  EXPECT_THROW(x.fill_(0.0), Error);
  NoGradGuard guard;
  x.fill_(0.0);  // allowed outside grad mode (optimizer updates)
  EXPECT_EQ(x.to_vector(), (std::vector<double>{0.0, 0.0, 0.0}));
}

TEST(Autograd, LongChainDoesNotRecurse) {
  // 20000 nodes: a recursive backward would overflow the stack.
  const Tensor x = Tensor::ones({1}, DType::kFloat64).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = scale(y, 1.0);
  sum(y).backward();
  EXPECT_EQ(x.grad().item(), 1.0);
}

}  // namespace
}  // namespace lits::testing
