// The fused inference path (models/unet_fused.h) against the op-by-op UNet::run in evaluation mode,
// float32, on networks that cover every option it handles: base and 'res' blocks, the three
// backbones (skip sums as post-ops), dilation, strided-conv and max pooling, transposed-conv and
// nearest upsampling, pypool heads, one and several output classes, logits. BatchNorm statistics
// and affines are random, so folding and the affine post-ops are exercised with non-trivial values.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "models/unet.h"
#include "models/unet_fused.h"
#include "tests/support/errors.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

// Random BatchNorm weights, biases and running statistics (as a trained network has).
void randomise_norms(UNet& net, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  auto fill = [&](Tensor& t, float lo, float hi) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = lo + (hi - lo) * u(rng);
  };
  for (const auto& [name, t] : net.named_buffers()) {
    Tensor& slot = net.find(name);
    if (name.find("running_mean") != std::string::npos) fill(slot, -0.5f, 0.5f);
    if (name.find("running_var") != std::string::npos) fill(slot, 0.3f, 2.0f);
  }
  NoGradGuard no_grad;
  for (const auto& [name, t] : net.named_parameters())
    if (name.find("norm") != std::string::npos)
      fill(net.find(name), name.find(".bias") != std::string::npos ? -0.3f : 0.5f, 1.2f);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// Fused and op-by-op outputs of `c` on a random [n, channels, h, w] input: the largest difference.
double fused_difference(const UNetConfig& c, int64_t n, int64_t h, int64_t w, uint32_t seed) {
  Generator gen(seed);
  UNet net(c, gen);
  randomise_norms(net, seed);
  net.eval();
  NoGradGuard no_grad;
  const Tensor x = randn({n, c.channels, h, w}, seed, DType::kFloat32, false);
  const Tensor ref = net.run(x).out;
  FusedUNet fused(net);
  const Tensor got = fused.run(x);
  EXPECT_EQ(got.shape(), ref.shape());
  return max_abs_diff(got, ref);
}

UNetConfig demo() {
  UNetConfig c;
  c.filter_start = c.filter_start_up = 8;
  c.structure = {2, 2, 2, 2};
  c.channels = 3;
  c.dropout = 0;
  c.use_conv_pool = true;
  c.dilation = c.dilation_up = {1, 1, 1, 1};
  return c;
}

#define SKIP_WITHOUT_FUSED()                         \
  if (!FusedUNet::unsupported(UNet(demo())).empty()) \
  GTEST_SKIP() << "no fused path: " << FusedUNet::unsupported(UNet(demo()))

TEST(UNetFused, BaseNetworkMatchesTheOpByOpPath) {
  SKIP_WITHOUT_FUSED();
  EXPECT_LE(fused_difference(demo(), 2, 64, 48, 1), 1e-4);
}

TEST(UNetFused, ResidualBackboneWithDilationMatches) {
  SKIP_WITHOUT_FUSED();
  UNetConfig c = demo();
  c.filter_start = 6;  // 12, 24, ... channels: blocks of 8 with padding
  c.backbone = "residual";
  c.structure = {2, 3, 2};
  c.dilation = {1, 2, 3};
  c.dilation_up = {1, 1, 2};
  c.channels = 1;
  EXPECT_LE(fused_difference(c, 1, 32, 32, 2), 1e-4);
}

TEST(UNetFused, DenseBackbonePypoolAndNarrowDecoderMatch) {
  SKIP_WITHOUT_FUSED();
  UNetConfig c = demo();
  c.filter_start = 8;
  c.filter_start_up = 4;
  c.structure = {2, 2, 3, 2};
  c.structure_up = {2, 2, 2, 2};
  c.backbone = "dense_residual";
  c.use_pypool = true;
  c.use_auxiliary_inputs = true;  // training only: absent from both paths in eval mode
  EXPECT_LE(fused_difference(c, 2, 32, 32, 3), 1e-4);
}

TEST(UNetFused, ResBlocksMaxPoolAndNearestUpsamplingMatch) {
  SKIP_WITHOUT_FUSED();
  UNetConfig c = demo();
  c.filter_start = 16;
  c.block_type = "res";
  c.use_conv_pool = false;
  c.up_conv_type = {};
  c.structure = {2, 2, 2};
  c.dilation = c.dilation_up = {1, 2, 1};
  EXPECT_LE(fused_difference(c, 1, 40, 24, 4), 1e-4);
}

TEST(UNetFused, SigmoidHeadAndLogitsMatch) {
  SKIP_WITHOUT_FUSED();
  UNetConfig c = demo();
  c.num_out_classes = 1;
  EXPECT_LE(fused_difference(c, 1, 32, 32, 5), 1e-4);
  c.num_out_classes = 3;
  c.output_logits = true;
  EXPECT_LE(fused_difference(c, 1, 32, 32, 6), 1e-4);
}

TEST(UNetFused, ShapesGetTheirOwnProgramAndLayoutsStayBlocked) {
  SKIP_WITHOUT_FUSED();
  Generator gen(7);
  UNet net(demo(), gen);
  randomise_norms(net, 7);
  net.eval();
  NoGradGuard no_grad;
  FusedUNet fused(net);
  const Tensor a = randn({2, 3, 32, 32}, 8, DType::kFloat32, false),
               b = randn({1, 3, 48, 64}, 9, DType::kFloat32, false);
  const Tensor ya = fused.run(a), yb = fused.run(b), yc = fused.run(randn({3, 3, 16, 16}, 10, DType::kFloat32, false));
  EXPECT_EQ(yb.shape(), Shape({1, 2, 48, 64}));
  EXPECT_LE(max_abs_diff(fused.run(a), ya), 0.0) << "a rebuilt program gives the same result";
  EXPECT_LE(max_abs_diff(yb, net.run(b).out), 1e-4);
  // Between the input and the output, every primitive reads the layout its producer wrote: the
  // only reorders are the input's (3 channels may be read blocked) and the output's.
  std::smatch m;
  const std::string text = fused.describe(2, 32, 32);
  ASSERT_TRUE(std::regex_search(text, m, std::regex("(\\d+) reorders"))) << text;
  EXPECT_LE(std::stoi(m[1]), 2) << text;
}

TEST(UNetFused, UnsupportedNetworksAreNamed) {
  SKIP_WITHOUT_FUSED();
  UNetConfig gn = demo();
  gn.use_batchnorm = false;
  gn.filter_start = 8;
  EXPECT_NE(FusedUNet::unsupported(UNet(gn)).find("GroupNorm"), std::string::npos);
  UNetConfig se = demo();
  se.se_reduction = 0.25;
  EXPECT_NE(FusedUNet::unsupported(UNet(se)).find("squeeze-excitation"), std::string::npos);
  UNet f64(demo());
  f64.to(DType::kFloat64);
  EXPECT_NE(FusedUNet::unsupported(f64).find("float32 on the CPU"), std::string::npos);
  expect_contains(error_of([&] { FusedUNet fused(f64); }), {"fused inference", "float32 on the CPU"});
  UNet net(demo());
  net.eval();
  FusedUNet fused(net);
  expect_contains(error_of([&] { fused.run(randn({1, 3, 30, 32}, 1, DType::kFloat32, false)); }), {"divisible"});
}

}  // namespace
}  // namespace lits::testing
