// The layers: parameter names, shapes and counts, initialiser statistics, Module bookkeeping,
// a float64 gradient check of every layer (with its parameters), and a CUDA parity test of every
// layer (the same seed builds identical CPU and GPU copies).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/ops.h"
#include "layers/basic.h"
#include "layers/conv.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/squeeze_excite.h"
#include "tests/support/errors.h"
#include "tests/support/gradcheck.h"
#include "tests/support/parity.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

using Maker = std::function<std::shared_ptr<Module>(Generator&)>;

// Gradient check of a layer in float64 with respect to its input and every parameter.
void expect_layer_gradcheck(const Maker& make, const Shape& x_shape, bool training = true,
                            const std::function<void()>& before_forward = {}) {
  Generator gen(17);
  const std::shared_ptr<Module> m = make(gen);
  m->to(DType::kFloat64);
  m->train(training);
  std::vector<Tensor> inputs{randn(x_shape, 3)};
  for (const Tensor& p : m->parameters()) inputs.push_back(p);
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& in) {
        if (before_forward) before_forward();
        return m->forward(in[0]);
      },
      inputs);
  EXPECT_TRUE(r.ok) << m->type_name() << ": " << r.report;
  EXPECT_GT(r.checked, 2 * r.skipped_kinks) << r.report;
}

// The same layer built twice from one seed, one copy moved to the GPU: outputs and the
// gradients of the input and of every parameter must agree.
void expect_layer_parity(const Maker& make, const Shape& x_shape, double rtol, double atol, bool training = true,
                         const std::function<void()>& before_forward = {}) {
  Generator g1(17), g2(17);
  const std::shared_ptr<Module> cpu = make(g1), gpu = make(g2);
  gpu->to(Device::cuda(0));
  cpu->train(training);
  gpu->train(training);
  const Tensor x = randn(x_shape, 3, DType::kFloat32);
  const Tensor xg = x.detach().to(Device::cuda(0)).set_requires_grad(true);
  if (before_forward) before_forward();
  const Tensor y = cpu->forward(x);
  if (before_forward) before_forward();
  const Tensor yg = gpu->forward(xg);
  ParityResult r = compare_tensors("output", y, yg, rtol, atol);
  EXPECT_TRUE(r.ok) << cpu->type_name() << ": " << r.report;
  std::printf("[ parity   ] %s %s\n", cpu->type_name().c_str(), r.report.c_str());
  Generator wg(99);
  const Tensor w = normal(y.shape(), 0.0, 1.0, wg);
  sum(mul(y, w)).backward();
  sum(mul(yg, w.to(Device::cuda(0)))).backward();
  r = compare_tensors("input grad", x.grad(), xg.grad(), rtol, atol);
  EXPECT_TRUE(r.ok) << cpu->type_name() << ": " << r.report;
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    r = compare_tensors(pc[i].first + " grad", pc[i].second.grad(), pg[i].second.grad(), rtol, atol);
    EXPECT_TRUE(r.ok) << cpu->type_name() << ": " << r.report;
  }
  for (const auto& [name, buf] : cpu->named_buffers()) {
    r = compare_tensors(name, buf, gpu->find(name), rtol, atol);
    EXPECT_TRUE(r.ok) << cpu->type_name() << ": " << r.report;
  }
}

#define LITS_SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason()

// ---- the layers under test ----
Maker conv(int64_t in, int64_t out, int64_t k, ConvParams p, InitType init = InitType::kHeNormal) {
  return [=](Generator& g) { return std::make_shared<Conv2d>(in, out, k, p, true, init, g); };
}
Maker conv_t(int64_t in, int64_t out, int64_t k, ConvParams p) {
  return [=](Generator& g) { return std::make_shared<ConvTranspose2d>(in, out, k, p, true, g); };
}
Maker batch_norm_layer(int64_t c) {
  return [=](Generator& g) { return std::make_shared<BatchNorm2d>(c, 0.1, 1e-5, g); };
}
Maker group_norm_layer(int64_t groups, int64_t c) {
  return [=](Generator&) { return std::make_shared<GroupNorm>(groups, c); };
}
Maker linear_layer(int64_t in, int64_t out) {
  return [=](Generator& g) { return std::make_shared<Linear>(in, out, true, g); };
}
Maker se_layer(int64_t c, double r) {
  return [=](Generator& g) { return std::make_shared<SqueezeExcitation>(c, r, g); };
}

TEST(Layers, Conv2dGradcheck) {
  expect_layer_gradcheck(conv(3, 4, 3, {1, 1, 1}), {2, 3, 5, 6});
  expect_layer_gradcheck(conv(2, 3, 3, {2, 1, 1}, InitType::kXavierUniform), {2, 2, 7, 5});
  expect_layer_gradcheck(conv(2, 2, 3, {1, 2, 2}, InitType::kHeUniform), {1, 2, 6, 7});
}
TEST(Layers, ConvTranspose2dGradcheck) {
  expect_layer_gradcheck(conv_t(3, 2, 4, {2, 1, 1}), {2, 3, 3, 4});
  expect_layer_gradcheck(conv_t(2, 1, 16, {8, 4, 1}), {1, 2, 2, 3});
}
TEST(Layers, BatchNorm2dGradcheck) {
  expect_layer_gradcheck(batch_norm_layer(3), {3, 3, 4, 5}, true);
  expect_layer_gradcheck(batch_norm_layer(3), {2, 3, 3, 3}, false);
}
TEST(Layers, GroupNormGradcheck) { expect_layer_gradcheck(group_norm_layer(2, 6), {2, 6, 3, 5}); }
TEST(Layers, LinearGradcheck) { expect_layer_gradcheck(linear_layer(5, 3), {4, 5}); }
TEST(Layers, SqueezeExcitationGradcheck) { expect_layer_gradcheck(se_layer(6, 0.5), {2, 6, 3, 4}); }
TEST(Layers, ParameterFreeLayersGradcheck) {
  expect_layer_gradcheck([](Generator&) { return std::make_shared<LeakyReLU>(0.05); }, {2, 3, 4, 5});
  expect_layer_gradcheck([](Generator&) { return std::make_shared<MaxPool2d>(3, 2, 1); }, {2, 3, 7, 6});
  expect_layer_gradcheck([](Generator&) { return std::make_shared<UpsampleNearest2x>(); }, {2, 3, 3, 4});
  static Generator drop_gen(5);
  expect_layer_gradcheck([](Generator&) { return std::make_shared<Dropout2d>(0.3, drop_gen); }, {3, 5, 3, 3}, true,
                         [] { drop_gen.set_state(5, 0); });  // the same mask at every evaluation
}

TEST(Layers, Conv2dCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(conv(20, 40, 3, {1, 1, 1}), {2, 20, 32, 32}, 1e-4, 2e-4);
  expect_layer_parity(conv(8, 8, 3, {2, 1, 1}), {2, 8, 33, 31}, 1e-4, 2e-4);
  expect_layer_parity(conv(8, 8, 3, {1, 3, 3}), {2, 8, 20, 20}, 1e-4, 2e-4);
}
TEST(Layers, ConvTranspose2dCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(conv_t(16, 8, 4, {2, 1, 1}), {2, 16, 16, 16}, 1e-4, 2e-4);
  expect_layer_parity(conv_t(32, 1, 64, {32, 16, 1}), {2, 32, 4, 4}, 1e-4, 2e-4);
}
TEST(Layers, BatchNorm2dCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(batch_norm_layer(16), {4, 16, 32, 32}, 1e-4, 1e-5, true);
  expect_layer_parity(batch_norm_layer(16), {4, 16, 32, 32}, 1e-4, 1e-5, false);
}
TEST(Layers, GroupNormCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(group_norm_layer(16, 64), {4, 64, 32, 32}, 1e-4, 1e-5);
}
TEST(Layers, LinearCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(linear_layer(64, 32), {8, 64}, 1e-4, 1e-5);
}
TEST(Layers, SqueezeExcitationCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity(se_layer(64, 0.5), {4, 64, 32, 32}, 1e-4, 1e-5);
}
TEST(Layers, ParameterFreeLayersCudaMatchesCpu) {
  LITS_SKIP_WITHOUT_GPU();
  expect_layer_parity([](Generator&) { return std::make_shared<LeakyReLU>(0.05); }, {4, 16, 32, 32}, 0, 0);
  expect_layer_parity([](Generator&) { return std::make_shared<MaxPool2d>(3, 2, 1); }, {4, 16, 33, 32}, 0, 0);
  expect_layer_parity([](Generator&) { return std::make_shared<UpsampleNearest2x>(); }, {4, 16, 16, 17}, 0, 0);
  static Generator drop_gen(5);
  expect_layer_parity([](Generator&) { return std::make_shared<Dropout2d>(0.3, drop_gen); }, {4, 64, 8, 8}, 0, 0, true,
                      [] { drop_gen.set_state(5, 0); });
}

// ---- parameters, names, initialisation ----
TEST(Layers, ParameterShapesNamesAndCounts) {
  Conv2d c(20, 40, 3, {1, 1, 1});
  const auto named = c.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[0].second.shape(), Shape({40, 20, 3, 3}));
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_EQ(c.parameter_count(), 7240);  // the Small preset's first encoder conv (section 2.12)
  ConvTranspose2d up(640, 320, 4, {2, 1, 1});
  EXPECT_EQ(up.parameter_count(), 3277120);  // the Small preset's deepest upsampler
  BatchNorm2d bn(40);
  EXPECT_EQ(bn.parameter_count(), 80);
  EXPECT_EQ(bn.named_buffers().size(), 2u);
  SqueezeExcitation se(40, 0.5);
  const auto se_named = se.named_parameters();
  ASSERT_EQ(se_named.size(), 4u);
  EXPECT_EQ(se_named[0].first, "fc1.weight");
  EXPECT_EQ(se_named[0].second.shape(), Shape({20, 40}));
  EXPECT_EQ(se_named[3].first, "fc2.bias");
  EXPECT_EQ(se.find("fc2.weight").shape(), Shape({40, 20}));
  EXPECT_THROW(se.find("fc3.weight"), Error);
}

TEST(Layers, TrainEvalPropagatesAndMovesKeepParametersLeaves) {
  SqueezeExcitation se(8, 0.5);
  se.eval();
  EXPECT_FALSE(se.is_training());
  se.train();
  EXPECT_TRUE(se.is_training());
  se.to(DType::kFloat64);
  for (const auto& [name, p] : se.named_parameters()) {
    EXPECT_EQ(p.dtype(), DType::kFloat64) << name;
    EXPECT_TRUE(p.requires_grad() && p.is_leaf()) << name;
  }
}

// Sample moments of a large initialised weight against the initialiser's definition.
void expect_moments(const Tensor& w, double mean, double std, double lo, double hi) {
  const std::vector<double> v = w.to_vector();
  double m = 0, s = 0, mn = 1e9, mx = -1e9;
  for (double e : v) {
    m += e;
    mn = std::min(mn, e);
    mx = std::max(mx, e);
  }
  m /= v.size();
  for (double e : v) s += (e - m) * (e - m);
  s = std::sqrt(s / v.size());
  EXPECT_NEAR(m, mean, 0.02 * std);
  EXPECT_NEAR(s, std, 0.02 * std);
  EXPECT_GE(mn, lo);
  EXPECT_LE(mx, hi);
}

TEST(Layers, InitialisersFollowTheirDefinitions) {
  const double fan_in = 64 * 9, fan_out = 128 * 9;
  Generator g(1);
  Tensor w = Tensor::empty({128, 64, 3, 3});
  init_conv_weight(w, InitType::kHeNormal, g);
  expect_moments(w, 0, std::sqrt(2 / fan_in), -1e9, 1e9);
  init_conv_weight(w, InitType::kHeUniform, g);
  const double hb = std::sqrt(6 / fan_in);
  expect_moments(w, 0, hb / std::sqrt(3.0), -hb, hb);
  init_conv_weight(w, InitType::kXavierNormal, g);
  expect_moments(w, 0, std::sqrt(2 / (fan_in + fan_out)), -1e9, 1e9);
  init_conv_weight(w, InitType::kXavierUniform, g);
  const double xb = std::sqrt(6 / (fan_in + fan_out));
  expect_moments(w, 0, xb / std::sqrt(3.0), -xb, xb);
  ConvTranspose2d up(64, 32, 4, {2, 1, 1}, true, g);
  const double ub = 1.0 / std::sqrt(64.0 * 16);
  expect_moments(up.find("weight"), 0, ub / std::sqrt(3.0), -ub, ub);
  BatchNorm2d bn(4096, 0.1, 1e-5, g);
  expect_moments(bn.find("weight"), 0.5, std::sqrt(1.0 / 12), 0, 1);
  EXPECT_EQ(bn.find("bias").to_vector(), std::vector<double>(4096, 0.0));
  EXPECT_EQ(Conv2d(3, 4, 3).find("bias").to_vector(), std::vector<double>(4, 0.0));
  EXPECT_EQ(parse_init_type("xavier_u"), InitType::kXavierUniform);
  expect_contains(error_of([] { parse_init_type("kaiming"); }), {"kaiming", "he_n"});
}

TEST(Layers, SameSeedSameWeights) {
  Generator a(3), b(3);
  EXPECT_EQ(Conv2d(4, 4, 3, {}, true, InitType::kHeNormal, a).find("weight").to_vector(),
            Conv2d(4, 4, 3, {}, true, InitType::kHeNormal, b).find("weight").to_vector());
}

TEST(Layers, BadConfigurationsAreErrors) {
  expect_contains(error_of([] { GroupNorm(24, 76); }), {"GroupNorm", "groups=24", "channels=76"});
  expect_contains(error_of([] { Dropout2d(1.0); }), {"Dropout2d", "p=1"});
  expect_contains(error_of([] { SqueezeExcitation(1, 0.5); }), {"SqueezeExcitation", "int(C * ratio) = 0"});
  Conv2d c(3, 8, 3, {1, 1, 1});
  expect_contains(error_of([&] { c(Tensor::zeros({1, 4, 8, 8})); }), {"conv2d", "4 channels", "expects 3"});
}

}  // namespace
}  // namespace lits::testing
