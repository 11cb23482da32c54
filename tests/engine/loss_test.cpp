// The multiclass losses: closed-form values (the issue's: a perfect two-class prediction gives
// pwce log(1 + e^-1) per pixel, the worst 1 + that; identical masks give Dice 1), values against
// the formulas evaluated here in plain loops, gradient checks with and without weightmaps and
// class weights at batch > 1, CUDA parity, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"

namespace lits::testing {
namespace {

// Two samples of 2 x 3 pixels, both classes present in each sample.
const std::vector<int64_t> kTarget = {0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0};
Tensor target_on(const Device& d) { return Tensor::from_ints(kTarget, {2, 2, 3}, DType::kInt64, d); }
// Weightmap values in [0.25, 1], like the reference's maps.
Tensor weightmap_like(const Tensor& x) {
  Generator g(8);
  return uniform({x.shape()[0], x.shape()[2], x.shape()[3]}, 0.25, 1.0, g, x.dtype(), x.device());
}

Tensor one_hot(const std::vector<int64_t>& t, int64_t B, int64_t K, int64_t H, int64_t W, bool flipped = false) {
  std::vector<double> v(static_cast<size_t>(B * K * H * W), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < H * W; ++n) {
      const int64_t y = flipped ? K - 1 - t[b * H * W + n] : t[b * H * W + n];
      v[(b * K + y) * H * W + n] = 1.0;
    }
  return Tensor::from_values(v, {B, K, H, W}, DType::kFloat64);
}

TEST(Loss, PwcePerfectAndWorstPredictions) {
  const Tensor t = target_on(Device::cpu());
  const double perfect = multiclass_pwce(one_hot(kTarget, 2, 2, 2, 3), t, Tensor(), {}).item();
  const double worst = multiclass_pwce(one_hot(kTarget, 2, 2, 2, 3, true), t, Tensor(), {}).item();
  EXPECT_NEAR(perfect, std::log(1.0 + std::exp(-1.0)), 1e-12);  // 0.3133
  EXPECT_NEAR(worst, std::log(1.0 + std::exp(1.0)), 1e-12);     // 1.3133
  EXPECT_NEAR(perfect, 0.31326, 1e-5);
  EXPECT_NEAR(worst, 1.31326, 1e-5);
}

TEST(Loss, IdenticalMasksGiveDiceOne) {
  LossOptions o;
  o.epsilon = 1e-6;
  const double d = multiclass_dice(one_hot(kTarget, 2, 2, 2, 3), target_on(Device::cpu()), o).item();
  EXPECT_NEAR(d, -1.0, 1e-6);
  const double opposite = multiclass_dice(one_hot(kTarget, 2, 2, 2, 3, true), target_on(Device::cpu()), o).item();
  EXPECT_NEAR(opposite, 0.0, 1e-12);
}

// Reference formulas, evaluated directly on host vectors.
struct Hand {
  double pwce = 0, dice = 0;
};
Hand by_hand(const std::vector<double>& p, const std::vector<int64_t>& t, const std::vector<double>& w, int64_t B,
             int64_t K, int64_t N, const LossOptions& o) {
  Hand h;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t c = 0; c < K; ++c) s += std::exp(p[(b * K + c) * N + n]);
      const int64_t y = t[b * N + n];
      const double lam = o.class_weights.empty() ? 1.0 : o.class_weights[y];
      const double m = w.empty() ? 1.0 : std::pow(1.0 + w[b * N + n], o.wmap_weight);
      h.pwce += -lam * std::log(std::exp(p[(b * K + y) * N + n]) / s) * m;
    }
    for (int64_t c = 0; c < K; ++c) {
      double I = 0, Sp = 0, St = 0;
      for (int64_t n = 0; n < N; ++n) {
        const double tv = t[b * N + n] == c ? 1.0 : 0.0;
        I += p[(b * K + c) * N + n] * tv;
        Sp += p[(b * K + c) * N + n];
        St += tv;
      }
      const double om = o.weight_score.empty() ? 1.0 : o.weight_score[c];
      h.dice += 2 * om * I / (Sp + St + o.epsilon);
    }
  }
  h.pwce /= static_cast<double>(B * N);
  h.dice /= static_cast<double>(B * K);
  return h;
}

TEST(Loss, CombinedIsPwceOverDiceOnAHandComputedExample) {
  // 1 sample, 2 classes, 2 x 2 pixels.
  const std::vector<double> p = {0.9, 0.2, 0.6, 0.3, 0.1, 0.8, 0.4, 0.7};
  const std::vector<int64_t> t = {0, 1, 0, 1};
  const std::vector<double> w = {0.25, 1.0, 0.5, 0.75};
  LossOptions o;
  o.wmap_weight = 3.0;
  o.class_weights = {1.0, 2.0};
  o.weight_score = {1.0, 1.5};
  const Tensor pt = Tensor::from_values(p, {1, 2, 2, 2}, DType::kFloat64);
  const Tensor tt = Tensor::from_ints(t, {1, 2, 2});
  const Tensor wt = Tensor::from_values(w, {1, 2, 2}, DType::kFloat64);
  const Hand h = by_hand(p, t, w, 1, 2, 4, o);
  EXPECT_NEAR(multiclass_pwce(pt, tt, wt, o).item(), h.pwce, 1e-12);
  EXPECT_NEAR(multiclass_dice(pt, tt, o).item(), -h.dice, 1e-12);
  EXPECT_NEAR(multiclass_combined(pt, tt, wt, o).item(), h.pwce / h.dice, 1e-12);
}

TEST(Loss, CrossEntropyOnLogitsAndDiceCe) {
  const std::vector<double> x = {2.0, -1.0, 0.5, 0.0, -0.5, 1.5, 0.3, 0.2, 1.0, -2.0, 0.7, 0.1};  // [1, 3, 2, 2]
  const std::vector<int64_t> t = {0, 2, 1, 1};
  const Tensor xt = Tensor::from_values(x, {1, 3, 2, 2}, DType::kFloat64);
  const Tensor tt = Tensor::from_ints(t, {1, 2, 2});
  double ce = 0, dice = 0;
  std::vector<double> q(12);
  for (int n = 0; n < 4; ++n) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += std::exp(x[c * 4 + n]);
    for (int c = 0; c < 3; ++c) q[c * 4 + n] = std::exp(x[c * 4 + n]) / s;
    ce += -std::log(q[t[n] * 4 + n]);
  }
  ce /= 4;
  const double eps = 1e-5;
  for (int c = 1; c < 3; ++c) {  // foreground classes only
    double I = 0, Sq = 0, St = 0;
    for (int n = 0; n < 4; ++n) {
      I += q[c * 4 + n] * (t[n] == c);
      Sq += q[c * 4 + n];
      St += (t[n] == c);
    }
    dice += (2 * I + eps) / (Sq + St + eps);
  }
  dice /= 2;
  LossOptions o;
  o.epsilon = eps;
  EXPECT_NEAR(cross_entropy(xt, tt, Tensor(), o).item(), ce, 1e-12);
  EXPECT_NEAR(dice_ce(xt, tt, Tensor(), o).item(), 0.5 * (ce + 1 - dice), 1e-12);
  // multiclass_pwce is cross_entropy applied to its input (the reference's double softmax).
  EXPECT_NEAR(multiclass_pwce(xt, tt, Tensor(), o).item(), ce, 1e-12);
}

// ---- gradient checks and CUDA parity ----
enum class Input { kSoftmax, kLogits };

OpCase loss_case(std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> loss, bool weightmap,
                 Shape x = {2, 2, 2, 3}, Input input = Input::kSoftmax) {
  OpCase c{[=](const Inputs& in) {
             const Tensor p = input == Input::kSoftmax ? softmax(in[0]) : in[0];
             const Tensor t = Tensor::from_ints(std::vector<int64_t>(kTarget.begin(), kTarget.end()), {2, 2, 3},
                                                DType::kInt64, in[0].device());
             return loss(p, t, weightmap ? weightmap_like(in[0]) : Tensor());
           },
           normal_inputs({x}, 41)};
  c.rtol = 1e-4;
  c.atol = 1e-6;
  return c;
}

LossOptions weighted() {
  LossOptions o;
  o.wmap_weight = 3.0;
  o.class_weights = {0.7, 1.6};
  o.weight_score = {1.0, 1.4};
  return o;
}

LITS_OP_CASE(multiclass_pwce, plain) {
  return loss_case([](const Tensor& p, const Tensor& t, const Tensor&) { return multiclass_pwce(p, t, {}, {}); },
                   false);
}
LITS_OP_CASE(multiclass_pwce, weightmap_and_class_weights) {
  return loss_case(
      [](const Tensor& p, const Tensor& t, const Tensor& w) { return multiclass_pwce(p, t, w, weighted()); }, true);
}
LITS_OP_CASE(multiclass_dice, plain) {
  return loss_case([](const Tensor& p, const Tensor& t, const Tensor&) { return multiclass_dice(p, t, {}); }, false);
}
LITS_OP_CASE(multiclass_dice, weight_score) {
  return loss_case([](const Tensor& p, const Tensor& t, const Tensor&) { return multiclass_dice(p, t, weighted()); },
                   false);
}
LITS_OP_CASE(multiclass_combined, plain) {
  return loss_case([](const Tensor& p, const Tensor& t, const Tensor&) { return multiclass_combined(p, t, {}, {}); },
                   false);
}
LITS_OP_CASE(multiclass_combined, weightmap_and_class_weights) {
  return loss_case(
      [](const Tensor& p, const Tensor& t, const Tensor& w) { return multiclass_combined(p, t, w, weighted()); }, true);
}
LITS_OP_CASE(cross_entropy, logits_weighted) {
  return loss_case([](const Tensor& x, const Tensor& t, const Tensor& w) { return cross_entropy(x, t, w, weighted()); },
                   true, {2, 2, 2, 3}, Input::kLogits);
}
LITS_OP_CASE(cross_entropy, logits_plain) {
  return loss_case([](const Tensor& x, const Tensor& t, const Tensor&) { return cross_entropy(x, t, {}, {}); }, false,
                   {2, 2, 2, 3}, Input::kLogits);
}
LITS_OP_CASE(dice_ce, logits) {
  return loss_case([](const Tensor& x, const Tensor& t, const Tensor&) { return dice_ce(x, t, {}, {}); }, false,
                   {2, 2, 2, 3}, Input::kLogits);
}
LITS_OP_CASE(dice_ce, weightmap_and_class_weights) {
  return loss_case([](const Tensor& x, const Tensor& t, const Tensor& w) { return dice_ce(x, t, w, weighted()); }, true,
                   {2, 2, 2, 3}, Input::kLogits);
}

// Three classes (target values 0..2 from a pattern) at a size that spans several kernel chunks.
LITS_PARITY_TEST(multiclass_combined, large_three_classes) {
  const Inputs x{randn({3, 3, 67, 129}, 5, DType::kFloat32)};
  expect_parity(
      [](const Inputs& in) {
        std::vector<int64_t> t(3 * 67 * 129);
        for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int64_t>((i * 7 + i / 129) % 3);
        LossOptions o;
        o.wmap_weight = 3.0;
        o.class_weights = {1.0, 2.0, 3.0};
        return multiclass_combined(softmax(in[0]), Tensor::from_ints(t, {3, 67, 129}, DType::kInt64, in[0].device()),
                                   weightmap_like(in[0]), o);
      },
      x, 1e-4, 1e-6);
}

// ---- bad input ----
// Empty input (B = 0 or H * W = 0) is one clear error on every device: it used to be NaN on the CPU
// and an invalid launch configuration on CUDA.
void expect_empty_losses_refused(Device dev) {
  const LossOptions o;
  const Shape shapes[] = {{0, 2, 4, 4}, {2, 2, 0, 4}, {2, 2, 4, 0}};
  for (const Shape& s : shapes) {
    const Tensor p = Tensor::zeros(s, DType::kFloat32, dev);
    const Tensor t = Tensor::zeros({s[0], s[2], s[3]}, DType::kInt64, dev);
    const std::vector<std::pair<const char*, std::function<void()>>> losses = {
        {"multiclass_pwce", [&] { multiclass_pwce(p, t, Tensor(), o); }},
        {"multiclass_dice", [&] { multiclass_dice(p, t, o); }},
        {"multiclass_combined", [&] { multiclass_combined(p, t, Tensor(), o); }},
        {"cross_entropy", [&] { cross_entropy(p, t, Tensor(), o); }},
        {"dice_ce", [&] { dice_ce(p, t, Tensor(), o); }},
    };
    for (const auto& [name, fn] : losses) expect_contains(error_of(fn), {name, s.str().c_str(), "is empty"});
  }
}

TEST(Loss, EmptyInputIsAClearErrorOnTheCpu) { expect_empty_losses_refused(Device::cpu()); }

TEST(Loss, EmptyInputIsTheSameErrorOnCuda) {
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  expect_empty_losses_refused(Device::cuda(0));
}

TEST(Loss, BadInputNamesShapesAndValues) {
  const Tensor p = Tensor::full({2, 2, 2, 3}, 0.5);
  const Tensor t = target_on(Device::cpu());
  expect_contains(error_of([&] {
                    multiclass_pwce(p, Tensor::from_ints(std::vector<int64_t>(12, 2), {2, 2, 3}), Tensor(), {});
                  }),
                  {"multiclass_pwce", "int64[2, 2, 3]", "outside [0, 2)", "e.g. 2"});
  expect_contains(error_of([&] {
                    multiclass_pwce(p, t, Tensor::zeros({2, 3, 2}), {});
                  }),
                  {"multiclass_pwce", "weightmap float32[2, 3, 2]", "expected float32[2, 2, 3]"});
  expect_contains(error_of([&] {
                    multiclass_dice(Tensor::full({2, 1, 2, 3}, 0.5), t, {});
                  }),
                  {"multiclass_dice", "[2, 1, 2, 3]", "1 channel(s)", "multiclass"});
  expect_contains(error_of([&] {
                    multiclass_pwce(p, Tensor::zeros({2, 2, 3}), Tensor(), {});
                  }),
                  {"multiclass_pwce", "target float32[2, 2, 3]", "int64"});
  LossOptions o;
  o.class_weights = {1.0, 2.0, 3.0};
  expect_contains(error_of([&] { multiclass_pwce(p, t, Tensor(), o); }), {"class_weights", "3 entries", "2 classes"});
}

}  // namespace
}  // namespace lits::testing
