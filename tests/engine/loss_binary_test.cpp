// binary_pwce, weighted_binary_dice, focal_pwce and focal_dice (docs/reference.md section 3.4):
// values and gradients worked out by hand on 2 x 2 examples (including the reference's quirks:
// the shared foreground union, the per-sample focal weighting, the discarded Dice), PyTorch's BCE
// log clamp, zero gradient where a clamp is active, multi-chunk sums against plain loops, gradient
// checks and CUDA parity with and without weightmaps at batch > 1 and odd sizes, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

std::vector<double> v(const Tensor& t) { return t.to_vector(); }

Tensor f64(const std::vector<double>& values, const Shape& shape) {
  return Tensor::from_values(values, shape, DType::kFloat64);
}

// Class indices in a fixed pattern; every class occurs in every sample of the sizes used here.
Tensor labels(const Shape& pixels, int64_t classes, Device device) {
  std::vector<int64_t> t(static_cast<size_t>(pixels.numel()));
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int64_t>((i * 7 + i / 5) % static_cast<size_t>(classes));
  return Tensor::from_ints(t, pixels, DType::kInt64, device);
}

// Weightmap values in [0.25, 1] like the reference's, drawn on the CPU so that both sides of a
// parity test see the same map.
Tensor weightmap_for(const Tensor& x) {
  Generator g(21);
  return uniform({x.shape()[0], x.shape()[2], x.shape()[3]}, 0.25, 1.0, g, x.dtype()).to(x.device());
}

enum class Loss { kBinaryPwce, kWeightedBinaryDice, kFocalPwce, kFocalDice };

// The loss of x's sigmoid (binary losses) or softmax (focal losses): p stays inside (0, 1) and,
// with eps = 1e-6, away from the focal clamp.
Tensor loss_of_logits(Loss loss, const Tensor& x, bool weighted, const LossOptions& o) {
  const bool binary = loss == Loss::kBinaryPwce || loss == Loss::kWeightedBinaryDice;
  const Tensor p = binary ? sigmoid(x) : softmax(x);
  const Tensor t = labels({x.shape()[0], x.shape()[2], x.shape()[3]}, binary ? 2 : x.shape()[1], x.device());
  const Tensor w = weighted ? weightmap_for(x) : Tensor();
  switch (loss) {
    case Loss::kBinaryPwce: return binary_pwce(p, t, w, o);
    case Loss::kWeightedBinaryDice: return weighted_binary_dice(p, t, w, o);
    case Loss::kFocalPwce: return focal_pwce(p, t, w, o);
    case Loss::kFocalDice: break;
  }
  return focal_dice(p, t, o);
}

LossOptions options(double alpha, double gamma = 1.5) {
  LossOptions o;
  o.wmap_weight = alpha;
  o.epsilon = 1e-6;
  o.focal_gamma = gamma;
  return o;
}

OpCase loss_case(Loss loss, Shape x, bool weighted, const LossOptions& o) {
  OpCase c{[=](const Inputs& in) { return loss_of_logits(loss, in[0], weighted, o); }, normal_inputs({x}, 43)};
  c.rtol = 1e-4;
  c.atol = 1e-6;
  return c;
}

// ---- gradient checks and CUDA parity ----
// The Dice cases use alpha = 0.5: with alpha = 3 both Dice terms of random predictions exceed the
// 0.9999 clamp and the gradient would be zero everywhere.
LITS_OP_CASE(binary_pwce, weightmap_batch2_odd) {
  return loss_case(Loss::kBinaryPwce, {2, 1, 3, 5}, true, options(3.0));
}
LITS_OP_CASE(binary_pwce, plain_batch3_odd) { return loss_case(Loss::kBinaryPwce, {3, 1, 5, 3}, false, options(0.0)); }
LITS_OP_CASE(weighted_binary_dice, weightmap_batch2_odd) {
  return loss_case(Loss::kWeightedBinaryDice, {2, 1, 3, 5}, true, options(0.5));
}
LITS_OP_CASE(weighted_binary_dice, plain_batch3_odd) {
  return loss_case(Loss::kWeightedBinaryDice, {3, 1, 5, 3}, false, options(0.0));
}
LITS_OP_CASE(focal_pwce, weightmap_three_classes) {
  return loss_case(Loss::kFocalPwce, {2, 3, 3, 5}, true, options(3.0));
}
LITS_OP_CASE(focal_pwce, plain_two_classes) {
  return loss_case(Loss::kFocalPwce, {3, 2, 5, 3}, false, options(0.0, 2.0));
}
LITS_OP_CASE(focal_dice, three_classes) { return loss_case(Loss::kFocalDice, {2, 3, 3, 5}, false, options(0.0)); }
LITS_OP_CASE(focal_dice, gamma0_two_classes) {
  return loss_case(Loss::kFocalDice, {3, 2, 5, 3}, false, options(0.0, 0.0));
}

// Several chunks per sample (67 * 65 pixels), so the chunk combination runs on the GPU too.
void expect_large_parity(Loss loss, const Shape& x, bool weighted, double alpha) {
  const LossOptions o = options(alpha);
  EXPECT_PARITY([=](const Inputs& in) { return loss_of_logits(loss, in[0], weighted, o); },
                Inputs{randn(x, 51, DType::kFloat32)}, 1e-4, 1e-7);
}
LITS_PARITY_TEST(binary_pwce, large_weighted) { expect_large_parity(Loss::kBinaryPwce, {4, 1, 67, 65}, true, 3.0); }
LITS_PARITY_TEST(weighted_binary_dice, large_weighted) {
  expect_large_parity(Loss::kWeightedBinaryDice, {4, 1, 67, 65}, true, 0.5);
}
LITS_PARITY_TEST(focal_pwce, large_weighted) { expect_large_parity(Loss::kFocalPwce, {2, 3, 67, 65}, true, 3.0); }
LITS_PARITY_TEST(focal_dice, large) { expect_large_parity(Loss::kFocalDice, {2, 3, 67, 65}, false, 0.0); }

// ---- values and gradients by hand ----
TEST(LossBinary, BinaryPwceIsTheWeightedBceMeanByHand) {
  const Tensor p = f64({0.9, 0.2, 0.6, 0.3}, {1, 1, 2, 2}).set_requires_grad(true);
  const Tensor t = Tensor::from_ints({1, 0, 0, 1}, {1, 2, 2});
  const Tensor w = f64({0.5, 1.0, 0.25, 0.75}, {1, 2, 2});
  const Tensor loss = binary_pwce(p, t, w, options(2.0));
  EXPECT_EQ(loss.ndim(), 0);
  // m = (1 + w)^2 = 2.25, 4, 1.5625, 3.0625; BCE = -log p for y = 1, -log(1 - p) for y = 0.
  const double expected =
      (-std::log(0.9) * 2.25 - std::log(0.8) * 4.0 - std::log(0.4) * 1.5625 - std::log(0.3) * 3.0625) / 4.0;
  EXPECT_NEAR(loss.item(), expected, 1e-14);
  // Upstream gradient 3: dL/dp = 3 / 4 * m * (-1 / p for y = 1, 1 / (1 - p) for y = 0).
  scale(loss, 3.0).backward();
  const std::vector<double> g = v(p.grad());
  EXPECT_NEAR(g[0], 0.75 * 2.25 * (-1.0 / 0.9), 1e-13);
  EXPECT_NEAR(g[1], 0.75 * 4.0 * (1.0 / 0.8), 1e-13);
  EXPECT_NEAR(g[2], 0.75 * 1.5625 * (1.0 / 0.4), 1e-13);
  EXPECT_NEAR(g[3], 0.75 * 3.0625 * (-1.0 / 0.3), 1e-13);
  // Without a weightmap alpha has nothing to weight.
  EXPECT_NEAR(binary_pwce(p, t, Tensor(), options(2.0)).item(),
              (-std::log(0.9) - std::log(0.8) - std::log(0.4) - std::log(0.3)) / 4.0, 1e-14);
}

TEST(LossBinary, BinaryPwceClampsLogsAndBackpropagatesLikePyTorch) {
  // p = 1 against y = 0 and p = 0 against y = 1: each log clamps at -100. PyTorch's backward,
  // (p - y) / max(p (1 - p), 1e-12), ignores that clamp: +-1e12, divided by the 4 pixels.
  const Tensor p = f64({1.0, 0.0, 1.0, 0.0}, {1, 1, 2, 2}).set_requires_grad(true);
  const Tensor t = Tensor::from_ints({0, 1, 1, 0}, {1, 2, 2});
  const Tensor loss = binary_pwce(p, t, Tensor(), options(0.0));
  EXPECT_DOUBLE_EQ(loss.item(), 50.0);
  loss.backward();
  const std::vector<double> g = v(p.grad());
  EXPECT_DOUBLE_EQ(g[0], 2.5e11);
  EXPECT_DOUBLE_EQ(g[1], -2.5e11);
  EXPECT_EQ(g[2], 0.0);
  EXPECT_EQ(g[3], 0.0);
}

TEST(LossBinary, WeightedBinaryDiceSharesTheForegroundUnionByHand) {
  const Tensor p = f64({0.9, 0.2, 0.6, 0.3, /* sample 1 */ 0.6, 0.4, 0.5, 0.3}, {2, 1, 2, 2}).set_requires_grad(true);
  const Tensor t = Tensor::from_ints({1, 0, 0, 1, 1, 1, 1, 0}, {2, 2, 2});
  const Tensor w = f64({0.5, 1.0, 0.25, 0.75, 0.25, 0.25, 0.5, 0.5}, {2, 2, 2});
  LossOptions o = options(1.0);
  o.epsilon = 0.01;
  // Sample 0: m = 1.5, 2, 1.25, 1.75; I1 = 0.9 * 1.5 + 0.3 * 1.75 + eps = 1.885, U = 2 + 2 + eps =
  // 4.01; I0 = 0.8 * 2 + 0.4 * 1.25 + eps = 2.11, so 2 I0 / U = 1.052 clamps to 0.9999.
  // Sample 1: m = 1.25, 1.25, 1.5, 1.5; I1 = 0.75 + 0.5 + 0.75 + eps = 2.01, U = 1.8 + 3 + eps =
  // 4.81; I0 = 0.7 * 1.5 + eps = 1.06.
  const double r1a = 2 * 1.885 / 4.01, r1b = 2 * 2.01 / 4.81, r0b = 2 * 1.06 / 4.81;
  const Tensor loss = weighted_binary_dice(p, t, w, o);
  EXPECT_NEAR(loss.item(), -(r1a + r1b) / 2 - (0.9999 + r0b) / 2, 1e-14);
  // L = -(D1a + D0a + D1b + D0b) / 2 with dU/dp = 1, dI1/dp = y m, dI0/dp = -(1 - y) m; the clamped
  // D0a contributes nothing.
  loss.backward();
  const std::vector<double> g = v(p.grad());
  const double ua = 4.01, ub = 4.81;
  EXPECT_NEAR(g[0], -0.5 * (2 * 1.5 - r1a) / ua, 1e-14);
  EXPECT_NEAR(g[1], -0.5 * (0.0 - r1a) / ua, 1e-14);
  EXPECT_NEAR(g[2], -0.5 * (0.0 - r1a) / ua, 1e-14);
  EXPECT_NEAR(g[3], -0.5 * (2 * 1.75 - r1a) / ua, 1e-14);
  EXPECT_NEAR(g[4], -0.5 * ((2 * 1.25 - r1b) + (0.0 - r0b)) / ub, 1e-14);
  EXPECT_NEAR(g[5], -0.5 * ((2 * 1.25 - r1b) + (0.0 - r0b)) / ub, 1e-14);
  EXPECT_NEAR(g[6], -0.5 * ((2 * 1.5 - r1b) + (0.0 - r0b)) / ub, 1e-14);
  EXPECT_NEAR(g[7], -0.5 * ((0.0 - r1b) + (-2 * 1.5 - r0b)) / ub, 1e-14);
}

TEST(LossBinary, WeightedBinaryDiceClampedSampleGetsZeroGradient) {
  // Sample 0 is a perfect all-foreground prediction: 2 I1 / U = 2 (4 + eps) / (8 + eps) > 0.9999
  // and 2 I0 / U = 2 eps / (8 + eps) < 1e-7, so both terms sit on their clamps.
  const Tensor p = f64({1, 1, 1, 1, /* sample 1 */ 0.7, 0.2, 0.4, 0.9}, {2, 1, 2, 2}).set_requires_grad(true);
  const Tensor t = Tensor::from_ints({1, 1, 1, 1, 1, 0, 0, 1}, {2, 2, 2});
  LossOptions o = options(0.0);
  o.epsilon = 1e-8;
  const Tensor loss = weighted_binary_dice(p, t, Tensor(), o);
  const double u = 2.2 + 2 + 1e-8, r1 = 2 * (1.6 + 1e-8) / u, r0 = 2 * (1.4 + 1e-8) / u;
  EXPECT_NEAR(loss.item(), -(0.9999 + r1) / 2 - (1e-7 + r0) / 2, 1e-14);
  loss.backward();
  const std::vector<double> g = v(p.grad());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(g[i], 0.0) << "clamped pixel " << i;
  for (int i = 4; i < 8; ++i) EXPECT_NE(g[i], 0.0) << "free pixel " << i;
}

// -log x (1 - x)^2 and its derivative, the focal term at gamma = 2.
double focal2(double x) { return -std::log(x) * (1 - x) * (1 - x); }
double focal2_grad(double x) { return -(1 - x) * (1 - x) / x + 2 * std::log(x) * (1 - x); }

// Two samples, K = 2, 2 x 2 pixels; target-channel probabilities 0.8, 0.7, 0.4, 0.1 and
// 0.5, 0.35, 0.9, 0.75.
const std::vector<double> kFocalP = {0.8, 0.3,  0.6, 0.1,  0.2, 0.7,  0.4, 0.9,    // sample 0: ch 0, ch 1
                                     0.5, 0.35, 0.9, 0.25, 0.5, 0.65, 0.1, 0.75};  // sample 1
const std::vector<int64_t> kFocalY = {0, 1, 1, 0, 1, 0, 0, 1};
const double kFocalPt[2][4] = {{0.8, 0.7, 0.4, 0.1}, {0.5, 0.35, 0.9, 0.75}};

TEST(LossBinary, FocalPwceScalesEachSampleByItsMeanPixelWeightByHand) {
  const Tensor p = f64(kFocalP, {2, 2, 2, 2}).set_requires_grad(true);
  const Tensor t = Tensor::from_ints(kFocalY, {2, 2, 2});
  const Tensor w = f64({0.5, 1.0, 0.25, 0.75, 0.25, 0.25, 0.25, 0.25}, {2, 2, 2});
  const LossOptions o = options(1.0, 2.0);
  // f_b = sum of the target-channel terms / (K N = 8); mean_n (1 + w) = 1.625 and 1.25.
  double f[2] = {0, 0};
  for (int b = 0; b < 2; ++b)
    for (int n = 0; n < 4; ++n) f[b] += focal2(kFocalPt[b][n]) / 8;
  const double M[2] = {1.625, 1.25};
  const Tensor loss = focal_pwce(p, t, w, o);
  EXPECT_NEAR(loss.item(), (f[0] * M[0] + f[1] * M[1]) / 2, 1e-14);
  loss.backward();
  const std::vector<double> g = v(p.grad());
  const std::vector<int64_t> y = kFocalY;
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 2; ++c)
      for (int n = 0; n < 4; ++n) {
        const double expected = c == y[b * 4 + n] ? M[b] / 2 / 8 * focal2_grad(kFocalPt[b][n]) : 0.0;
        EXPECT_NEAR(g[(b * 2 + c) * 4 + n], expected, 1e-14) << "b " << b << " c " << c << " n " << n;
      }
}

TEST(LossBinary, FocalDiceIsTheUnweightedFocalMeanByHand) {
  const Tensor t = Tensor::from_ints(kFocalY, {2, 2, 2});
  double sum2 = 0, sum_log = 0;
  for (int b = 0; b < 2; ++b)
    for (int n = 0; n < 4; ++n) {
      sum2 += focal2(kFocalPt[b][n]);
      sum_log += std::log(kFocalPt[b][n]);
    }
  // Mean over b, c and n: B K N = 16. Gamma 0 is plain cross-entropy divided by K.
  const Tensor p = f64(kFocalP, {2, 2, 2, 2});
  EXPECT_NEAR(focal_dice(p, t, options(0.0, 2.0)).item(), sum2 / 16, 1e-14);
  EXPECT_NEAR(focal_dice(p, t, options(0.0, 0.0)).item(), -sum_log / 16, 1e-14);
  // Without a weightmap focal_pwce's sample scale is 1 and the two losses agree.
  EXPECT_NEAR(focal_pwce(p, t, Tensor(), options(3.0, 2.0)).item(), sum2 / 16, 1e-15);
}

TEST(LossBinary, FocalClampedElementsGetZeroGradient) {
  // eps = 0.1: target-channel p of 0.05 and 0.95 clamp (to 0.1 and 0.9) and get no gradient; p =
  // 0.1 lies on the boundary, where PyTorch's clamp passes the gradient; 0.5 is free.
  const Tensor t = Tensor::from_ints({0, 0, 0, 1}, {1, 2, 2});
  LossOptions o = options(0.0, 2.0);
  o.epsilon = 0.1;
  for (const bool dice : {false, true}) {
    const Tensor p = f64({0.05, 0.95, 0.1, 0.5, 0.95, 0.05, 0.9, 0.5}, {1, 2, 2, 2}).set_requires_grad(true);
    const Tensor loss = dice ? focal_dice(p, t, o) : focal_pwce(p, t, Tensor(), o);
    EXPECT_NEAR(loss.item(), (focal2(0.1) + focal2(0.9) + focal2(0.1) + focal2(0.5)) / 8, 1e-14);
    loss.backward();
    const std::vector<double> g = v(p.grad());
    const std::vector<double> expected = {0, 0, focal2_grad(0.1) / 8, 0, 0, 0, 0, focal2_grad(0.5) / 8};
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(g[i], expected[i], 1e-14) << (dice ? "focal_dice " : "focal_pwce ") << i;
    EXPECT_NE(g[2], 0.0);
  }
}

// ---- several chunks per sample against the formulas in plain loops ----
TEST(LossBinary, MultiChunkSumsMatchPlainLoops) {
  const int64_t B = 2, K = 3, H = 50, W = 45, N = H * W;  // 2250 pixels: two chunks per sample
  const double alpha = 1.5, eps = 1e-4, gamma = 1.5;
  LossOptions o = options(alpha, gamma);
  o.epsilon = eps;
  const Tensor w = randu({B, H, W}, 0.25, 1.0, 3, DType::kFloat64, false);
  const std::vector<double> wv = v(w);
  auto m = [&](int64_t i) { return std::pow(1 + wv[i], alpha); };

  const Tensor pb = sigmoid(randn({B, 1, H, W}, 4, DType::kFloat64, false));
  const Tensor yb = labels({B, H, W}, 2, Device::cpu());
  const std::vector<double> p = v(pb);
  const std::vector<int64_t> y = yb.to_ints();
  double bce = 0, dice = 0;
  for (int64_t b = 0; b < B; ++b) {
    double i1 = 0, i0 = 0, u = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t i = b * N + n;
      const double yi = static_cast<double>(y[i]);
      bce += -(yi * std::log(p[i]) + (1 - yi) * std::log(1 - p[i])) * m(i) / static_cast<double>(B * N);
      i1 += p[i] * yi * m(i);
      i0 += (1 - p[i]) * (1 - yi) * m(i);
      u += p[i] + yi;
    }
    dice -=
        (std::clamp(2 * (i1 + eps) / (u + eps), 1e-7, 0.9999) + std::clamp(2 * (i0 + eps) / (u + eps), 1e-7, 0.9999)) /
        static_cast<double>(B);
  }
  EXPECT_NEAR(binary_pwce(pb, yb, w, o).item(), bce, 1e-12 * std::abs(bce));
  EXPECT_NEAR(weighted_binary_dice(pb, yb, w, o).item(), dice, 1e-12 * std::abs(dice));

  const Tensor pk = softmax(randn({B, K, H, W}, 5, DType::kFloat64, false));
  const Tensor yk = labels({B, H, W}, K, Device::cpu());
  const std::vector<double> q = v(pk);
  const std::vector<int64_t> c = yk.to_ints();
  double fpwce = 0, fdice = 0;
  for (int64_t b = 0; b < B; ++b) {
    double f = 0, msum = 0;
    for (int64_t n = 0; n < N; ++n) {
      const double pt = std::clamp(q[(b * K + c[b * N + n]) * N + n], eps, 1 - eps);
      f += -std::log(pt) * std::pow(1 - pt, gamma);
      msum += m(b * N + n);
    }
    fpwce += f / static_cast<double>(K * N) * msum / static_cast<double>(N) / static_cast<double>(B);
    fdice += f / static_cast<double>(B * K * N);
  }
  EXPECT_NEAR(focal_pwce(pk, yk, w, o).item(), fpwce, 1e-12 * std::abs(fpwce));
  EXPECT_NEAR(focal_dice(pk, yk, o).item(), fdice, 1e-12 * std::abs(fdice));
}

TEST(LossBinary, Float32AgreesWithFloat64OnTheCpu) {
  for (const Loss loss : {Loss::kBinaryPwce, Loss::kWeightedBinaryDice, Loss::kFocalPwce, Loss::kFocalDice}) {
    const bool binary = loss == Loss::kBinaryPwce || loss == Loss::kWeightedBinaryDice;
    const Shape shape{3, binary ? 1 : 3, 7, 5};
    const LossOptions o = options(loss == Loss::kWeightedBinaryDice ? 0.5 : 3.0);
    Tensor x64 = randn(shape, 6, DType::kFloat64), x32 = randn(shape, 6, DType::kFloat32);
    const Tensor l64 = loss_of_logits(loss, x64, loss != Loss::kFocalDice, o);
    const Tensor l32 = loss_of_logits(loss, x32, loss != Loss::kFocalDice, o);
    EXPECT_NEAR(l32.item(), l64.item(), 1e-5 * std::abs(l64.item()));
    l64.backward();
    l32.backward();
    const std::vector<double> g64 = v(x64.grad()), g32 = v(x32.grad());
    for (size_t i = 0; i < g64.size(); ++i) EXPECT_NEAR(g32[i], g64[i], 1e-6 + 1e-4 * std::abs(g64[i])) << i;
  }
}

// ---- bad input ----
TEST(LossBinary, BadInputNamesTheOpShapesAndValues) {
  const Tensor p1 = Tensor::full({1, 1, 2, 2}, 0.5), p2 = Tensor::full({1, 2, 2, 2}, 0.5);
  const Tensor t = Tensor::from_ints({0, 1, 1, 0}, {1, 2, 2});
  const LossOptions o;
  expect_contains(error_of([&] {
                    binary_pwce(p1, Tensor::from_ints({0, 2, 1, 0}, {1, 2, 2}), Tensor(), o);
                  }),
                  {"binary_pwce", "target", "int64[1, 2, 2]", "outside [0, 2)", "e.g. 2"});
  expect_contains(error_of([&] {
                    weighted_binary_dice(p1, t, Tensor::full({1, 2, 3}, 0.5), o);
                  }),
                  {"weighted_binary_dice", "weightmap", "float32[1, 2, 3]", "expected float32[1, 2, 2]"});
  expect_contains(error_of([&] { binary_pwce(p2, t, Tensor(), o); }),
                  {"binary_pwce", "float32[1, 2, 2, 2]", "2 channel(s)", "expects 1"});
  expect_contains(error_of([&] { weighted_binary_dice(p2, t, Tensor(), o); }),
                  {"weighted_binary_dice", "2 channel(s)", "expects 1"});
  expect_contains(error_of([&] { focal_pwce(p1, t, Tensor(), o); }),
                  {"focal_pwce", "float32[1, 1, 2, 2]", "1 channel(s)", "expects >= 2"});
  expect_contains(error_of([&] { focal_dice(p1, t, o); }), {"focal_dice", "1 channel(s)", "expects >= 2"});
  expect_contains(error_of([&] {
                    focal_dice(p2, Tensor::from_ints({0, 1, 3, 0}, {1, 2, 2}), o);
                  }),
                  {"focal_dice", "outside [0, 2)", "e.g. 3"});
  expect_contains(error_of([&] {
                    binary_pwce(p1, Tensor::from_ints({0, 1}, {1, 1, 2}), Tensor(), o);
                  }),
                  {"binary_pwce", "target", "[1, 1, 2]", "expected int64[1, 2, 2]"});

  LossOptions bad;
  bad.epsilon = 0.5;
  expect_contains(error_of([&] { focal_dice(p2, t, bad); }), {"focal_dice", "epsilon 0.5", "(0, 0.5)"});
  bad.epsilon = 0.0;
  expect_contains(error_of([&] { weighted_binary_dice(p1, t, Tensor(), bad); }),
                  {"weighted_binary_dice", "epsilon 0", "(0, 0.5)"});
  bad.epsilon = 1e-6;
  bad.focal_gamma = -1.0;
  expect_contains(error_of([&] { focal_pwce(p2, t, Tensor(), bad); }), {"focal_pwce", "focal_gamma -1", ">= 0"});
  bad.focal_gamma = 2.0;
  bad.wmap_weight = std::nan("");
  expect_contains(error_of([&] { binary_pwce(p1, t, Tensor(), bad); }), {"binary_pwce", "wmap_weight nan"});
  expect_contains(error_of([&] {
                    binary_pwce(Tensor::zeros({0, 1, 2, 2}), Tensor::from_ints({}, {0, 2, 2}), Tensor(), o);
                  }),
                  {"binary_pwce", "[0, 1, 2, 2]", "empty"});
}

}  // namespace
}  // namespace lits::testing
