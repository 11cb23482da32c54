// The UNet builder against the reference's exact numbers (section 2.12): parameter counts of the
// presets, output and auxiliary shapes, MACs per slice, state-dict names; a forward + backward of
// the Big configuration, and the Small configuration overfitting one tiny batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/autograd.h"
#include "engine/cuda_context.h"
#include "engine/ops.h"
#include "models/setup.h"
#include "models/unet.h"
#include "tests/support/errors.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

UNetConfig small_liver() {
  UNetConfig c;
  c.filter_start = c.filter_start_up = 20;
  c.structure = {3, 3, 3, 3, 3};
  c.dropout = 0;
  c.channels = 1;
  c.use_conv_pool = true;
  c.dilation = c.dilation_up = {1, 1, 1, 1, 1};
  return c;
}

UNetConfig medium_liver() {  // with the 6-entry dilation fix
  UNetConfig c = small_liver();
  c.structure = {3, 3, 3, 3, 4, 4};
  c.channels = 3;
  c.backbone = "residual";
  c.dilation = c.dilation_up = {1, 1, 1, 1, 1, 1};
  return c;
}

UNetConfig big_liver() {
  UNetConfig c;
  c.filter_start = 26;
  c.filter_start_up = 12;
  c.structure = {3, 3, 3, 4, 4, 5};
  c.structure_up = {2, 2, 2, 2, 2, 2};
  c.dropout = 0;
  c.channels = 3;
  c.use_pypool = true;
  c.use_auxiliary_inputs = true;
  c.use_conv_pool = true;
  c.backbone = "dense_residual";
  c.dilation = {1, 1, 2, 3, 3, 2};
  c.dilation_up = {1, 1, 1, 1, 1, 1};
  return c;
}

UNetConfig baseline() { return UNetConfig{}; }  // F=32, [3,3,3], channels 3, max-pool, dropout 0.2

// The presets through the parser and the config resolution, as `lits info` builds them.
UNetConfig preset(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "models" / "presets";
  const lits::Setup base = parse_setup_file((dir / "Baseline_Parameters.txt").string());
  if (name == "Baseline_Parameters.txt") return unet_config_from(base);
  const std::vector<lits::Setup> runs = expand_variations_file(base, (dir / name).string());
  EXPECT_EQ(runs.size(), 1u);
  return unet_config_from(runs.at(0));
}

TEST(UNet, PresetParameterCountsMatchTheReference) {
  EXPECT_EQ(UNet(preset("Setup_Small_Liver.txt")).parameter_count(), 26453082);
  EXPECT_EQ(UNet(preset("Baseline_Parameters.txt")).parameter_count(), 3334978);
  EXPECT_EQ(UNet(preset("Setup_Medium_Liver.txt")).parameter_count(), 131170642);  // dilation fixed to 6 entries
  EXPECT_EQ(UNet(preset("Setup_Big_Liver.txt")).parameter_count(), 202842599);
  // The test's own configurations describe the same networks.
  EXPECT_EQ(UNet(small_liver()).parameter_count(), 26453082);
}

TEST(UNet, StateDictNamesAreStable) {
  UNet small(small_liver());
  const auto named = small.named_parameters();
  const std::vector<std::string> first = {"input.conv.weight",  "input.conv.bias",     "input.norm.weight",
                                          "input.norm.bias",    "enc.0.norm.0.weight", "enc.0.norm.0.bias",
                                          "enc.0.conv.0.weight"};
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(named[i].first, first[i]);
  EXPECT_EQ(small.find("enc.0.conv.0.weight").shape(), Shape({40, 20, 3, 3}));
  EXPECT_EQ(small.find("enc.4.pool.weight").shape(), Shape({640, 640, 3, 3})) << "the unused bottleneck pool exists";
  EXPECT_EQ(small.find("dec.0.up.weight").shape(), Shape({640, 320, 4, 4}));
  EXPECT_EQ(small.find("dec.0.norm.0.running_mean").shape(), Shape({640}));
  EXPECT_EQ(small.find("output.weight").shape(), Shape({2, 40, 1, 1}));
  UNetConfig big = big_liver();
  big.filter_start = 4;  // same layout, small widths
  big.filter_start_up = 2;
  UNet b(big);
  EXPECT_EQ(b.find("enc.0.adjust.weight").shape(), Shape({8, 4, 1, 1}));
  EXPECT_EQ(b.find("pypool.0.weight").shape(), Shape({256, 1, 64, 64}));
  EXPECT_EQ(b.find("pypool.4.weight").shape(), Shape({8, 1, 4, 4}));  // Fu * 2^(L-4) = 8 channels
  EXPECT_EQ(b.find("aux.4.weight").shape(), Shape({2, 8, 1, 1}));
  EXPECT_EQ(b.find("output.weight").shape(), Shape({2, 2 * 2 + 5, 1, 1}));
}

TEST(UNet, MacsPerSliceMatchTheReferenceEstimates) {
  // Section 2.12: Small about 31.4 GMAC per 256^2 slice, 125.8 per 512^2; Big about 43.4 / 173.8.
  EXPECT_NEAR(unet_macs_per_slice(small_liver(), 256, 256) / 1e9, 31.4, 0.1);
  EXPECT_NEAR(unet_macs_per_slice(small_liver(), 512, 512) / 1e9, 125.8, 0.2);
  EXPECT_NEAR(unet_macs_per_slice(big_liver(), 256, 256) / 1e9, 43.4, 0.1);
  EXPECT_NEAR(unet_macs_per_slice(big_liver(), 512, 512) / 1e9, 173.8, 0.2);
}

TEST(UNet, BigPresetShapesAt256) {
  UNet big(big_liver());
  big.train();
  NoGradGuard no_grad;
  const UNetOutput out = big.run(randn({1, 3, 256, 256}, 1, DType::kFloat32, false));
  EXPECT_EQ(out.out.shape(), Shape({1, 2, 256, 256}));
  ASSERT_EQ(out.aux.size(), 5u);
  const int64_t sizes[] = {128, 64, 32, 16, 8};
  for (int k = 0; k < 5; ++k) EXPECT_EQ(out.aux[k].shape(), Shape({1, 2, sizes[k], sizes[k]})) << "aux " << k;
  // Probabilities: channels sum to 1.
  const std::vector<double> p = sum(out.out, {1}).to_vector();
  for (size_t i = 0; i < p.size(); i += 997) EXPECT_NEAR(p[i], 1.0, 1e-5);
  big.eval();
  EXPECT_TRUE(big.run(randn({1, 3, 256, 256}, 2, DType::kFloat32, false)).aux.empty()) << "aux heads train only";
  const auto shapes = big.level_shapes(256, 256);
  EXPECT_EQ(shapes[6].name, "enc.5");
  EXPECT_EQ(shapes[6].channels, 1664);
  EXPECT_EQ(shapes[6].height, 8);
}

TEST(UNet, BigPresetForwardAndBackwardOnTheCpu) {
  UNet big(big_liver());
  big.train();
  const UNetOutput out = big.run(randn({1, 3, 64, 64}, 3, DType::kFloat32, false));
  Tensor loss = mean(out.out);
  for (const Tensor& a : out.aux) loss = add(loss, mean(a));
  loss.backward();
  int64_t with_grad = 0;
  for (const auto& [name, p] : big.named_parameters()) with_grad += p.grad().defined();
  // Every parameter but the discarded bottleneck downsampler receives a gradient.
  EXPECT_EQ(with_grad, static_cast<int64_t>(big.named_parameters().size()) - 2);
  EXPECT_FALSE(big.find("enc.5.pool.weight").grad().defined());
}

// A disc target for [2, 32, 32] batches: "liver".
Tensor disc_target() {
  std::vector<int64_t> t(2 * 32 * 32);
  for (int64_t i = 0; i < static_cast<int64_t>(t.size()); ++i) {
    const int64_t h = (i / 32) % 32, w = i % 32;
    t[i] = (h - 16) * (h - 16) + (w - 12) * (w - 12) < 64;
  }
  return Tensor::from_ints(t, {2, 32, 32});
}

// First and last loss of 25 momentum-SGD steps of the Small preset on one tiny batch (a disc: "liver").
std::pair<double, double> overfit_tiny_batch() {
  UNet small(small_liver());
  small.train();
  const Tensor x = randn({2, 1, 32, 32}, 4, DType::kFloat32, false), target = disc_target();
  LossOptions o;
  std::vector<Tensor> velocity;
  double first = 0, last = 0;
  for (int step = 0; step < 25; ++step) {
    small.zero_grad();
    const Tensor loss = multiclass_pwce(small.forward(x), target, Tensor(), o);
    loss.backward();
    if (step == 0) first = loss.item();
    last = loss.item();
    NoGradGuard no_grad;
    const auto params = small.parameters();
    if (velocity.empty())
      for (const Tensor& p : params) velocity.push_back(Tensor::zeros(p.shape()));
    for (size_t k = 0; k < params.size(); ++k) {
      if (!params[k].grad().defined()) continue;
      velocity[k] = add(scale(velocity[k], 0.9), params[k].grad());
      Tensor(params[k]).add_(velocity[k], -0.01);
    }
  }
  return {first, last};
}

TEST(UNet, SmallPresetOverfitsOneTinyBatch) {
  const auto [first, last] = overfit_tiny_batch();
  // pwce's floor is log(1 + e^-1) = 0.3133 (the double softmax); the start is near 0.69.
  EXPECT_LT(last, 0.75 * first) << "first " << first << " last " << last;
  EXPECT_LT(last, 0.5);
}

// Loss and parameter gradients of one training step (forward in training mode, loss, backward) of a
// 3-level UNet on `device` in the process's precision.
struct StepResult {
  double loss = 0.0;
  std::vector<double> grads;  // every gradient, concatenated in parameter order
};
StepResult training_step(const Device& device) {
  UNetConfig c = small_liver();
  c.structure = {2, 2, 2};
  c.dilation = c.dilation_up = {1, 1, 1};
  c.filter_start = c.filter_start_up = 8;
  Generator gen(9);
  UNet net(c, gen);
  net.to(device);
  net.train();
  const Tensor x = randn({2, 1, 32, 32}, 4, DType::kFloat32, false).to(device);
  const Tensor loss = multiclass_pwce(net.forward(x), disc_target().to(device), Tensor(), LossOptions{});
  loss.backward();
  StepResult r{loss.item(), {}};
  for (const Tensor& p : net.parameters())
    if (p.grad().defined())
      for (double g : p.grad().to_vector()) r.grads.push_back(g);
  return r;
}

// |a - b| / |b| of two gradient vectors.
double relative_gap(const std::vector<double>& a, const std::vector<double>& b) {
  double d2 = 0.0, n2 = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d2 += (a[i] - b[i]) * (a[i] - b[i]), n2 += b[i] * b[i];
  return std::sqrt(d2 / n2);
}

// One training step on CUDA against its CPU twin in each precision. In fp32 the two differ only in
// float32 summation order: 1e-5 of the loss, 1e-4 of the gradients (|g_cuda - g_cpu| / |g_cpu| over all
// of them). In tf32 and bf16 an operand whose last float32 bits differ between the devices may round to
// the neighbouring TF32 or bfloat16 value, and through the layers such steps spread until the two runs
// differ by the precision's own rounding noise: both are equally rounded computations. So the CUDA run
// must be nearer its twin than the twin is to fp32 (the precision's own effect, printed), and the loss
// within 1e-3 of the twin's. The per-op tests (tests/engine/precision_test.cpp,
// tests/cuda_emu/parity_precision_test.cpp) check the rounding itself.
TEST(UNet, TrainingStepCudaMatchesCpuInEachPrecision) {
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  StepResult fp32;
  for (const Precision p : {Precision::kFp32, Precision::kTf32, Precision::kBf16}) {
    PrecisionGuard guard(p);
    const StepResult cpu = training_step(Device::cpu()), gpu = training_step(Device::cuda(0));
    if (p == Precision::kFp32) fp32 = cpu;
    ASSERT_EQ(cpu.grads.size(), gpu.grads.size());
    const double loss_gap = std::fabs(gpu.loss - cpu.loss) / std::fabs(cpu.loss);
    const double gap = relative_gap(gpu.grads, cpu.grads), own = relative_gap(cpu.grads, fp32.grads);
    std::printf(
        "[ parity   ] UNet training step, %s: loss %.6f (CPU) %.6f (CUDA); gradients: CUDA vs CPU %.3g, "
        "CPU vs CPU fp32 %.3g\n",
        precision_name(p), cpu.loss, gpu.loss, gap, own);
    if (p == Precision::kFp32) {
      EXPECT_LT(loss_gap, 1e-5);
      EXPECT_LT(gap, 1e-4);
    } else {
      EXPECT_LT(loss_gap, 1e-3) << precision_name(p);
      EXPECT_LT(gap, own) << precision_name(p);
    }
  }
}

// bfloat16 autocast keeps the network trainable: the Small preset still overfits a tiny batch.
TEST(UNet, SmallPresetStillLearnsInBf16) {
  PrecisionGuard guard(Precision::kBf16);
  const auto [first, last] = overfit_tiny_batch();
  EXPECT_LT(last, 0.75 * first) << "first " << first << " last " << last;
  EXPECT_LT(last, 0.5);
}

TEST(UNet, BadConfigurationsAreClearErrors) {
  UNetConfig gn = big_liver();
  gn.use_batchnorm = false;
  expect_contains(error_of([&] { UNet u(gn); }), {"GroupNorm", "groups", "does not divide", "channels"});
  UNetConfig d = medium_liver();
  d.dilation = {1, 1, 1, 1, 1};
  expect_contains(error_of([&] { UNet u(d); }), {"dilation has 5 entries for 6 levels"});
  UNetConfig two = baseline();
  two.structure = {3, 3};
  expect_contains(error_of([&] { UNet u(two); }), {"at least 3"});
  UNet small(small_liver());
  expect_contains(error_of([&] { small.forward(Tensor::zeros({1, 1, 40, 40})); }), {"divisible", "16"});
  expect_contains(error_of([&] { small.forward(Tensor::zeros({1, 3, 32, 32})); }), {"[N, 1, H, W]"});
}

// Absurd setups are refused before anything is allocated, the limit named (a 40-level structure made
// `lits info` grow past 5.5 GB; filter_start 1e9 and num_classes 1e6 reached the allocator).
TEST(UNet, SetupsBeyondTheLimitsAreRefusedUpFront) {
  const auto refused = [](UNetConfig c, std::initializer_list<const char*> parts) {
    expect_contains(error_of([&] { c.resolve(); }), parts);
  };
  UNetConfig deep = baseline();
  deep.structure.assign(40, 2);
  deep.structure_up.clear();
  deep.dilation.clear();
  deep.dilation_up.clear();
  refused(deep, {"structure has 40 levels", "at most 10"});
  UNetConfig wide = baseline();
  wide.filter_start = 1000000000;
  refused(wide, {"filter_start 1000000000", "1 to 1024"});
  UNetConfig classes = baseline();
  classes.num_out_classes = 1000000;
  refused(classes, {"1000000 output channels", "at most 256"});
  UNetConfig deepest = baseline();
  deepest.filter_start = 1024;
  deepest.filter_start_up = 1024;
  deepest.structure = {1, 1, 1, 1, 1, 1};
  deepest.structure_up.clear();
  deepest.dilation.clear();
  deepest.dilation_up.clear();
  refused(deepest, {"deepest level 32768 channels", "at most 16384"});
  UNetConfig heavy = baseline();
  heavy.filter_start = heavy.filter_start_up = 512;
  heavy.structure = {32, 32, 32, 32, 32};
  heavy.structure_up.clear();
  heavy.dilation.clear();
  heavy.dilation_up.clear();
  refused(heavy, {"parameters; at most 1e+09"});
  // The estimate bounds the real counts of the presets from above, and they are far inside the limit.
  for (const char* name : {"Setup_Small_Liver.txt", "Setup_Medium_Liver.txt", "Setup_Big_Liver.txt"}) {
    const UNetConfig c = preset(name);
    EXPECT_GE(c.estimated_parameters(), static_cast<double>(UNet(c).parameter_count())) << name;
    EXPECT_LT(c.estimated_parameters(), UNetLimits::kMaxParameters / 2) << name;
  }
}

TEST(UNet, OtherOptionsBuildAndRun) {
  // block_type res, GroupNorm, nearest upsampling, SE, residual, max-pool, sigmoid output.
  UNetConfig c;
  c.filter_start = c.filter_start_up = 16;  // the ResBlock's GroupNorm needs >= 16 input channels
  c.structure = {2, 2, 2};
  c.block_type = "res";
  c.use_batchnorm = false;
  c.up_conv_type = {};
  c.se_reduction = 0.5;
  c.backbone = "residual";
  c.num_out_classes = 1;
  c.channels = 3;
  UNet u(c);
  const Tensor y = u.forward(randn({2, 3, 8, 8}, 5, DType::kFloat32, false));
  EXPECT_EQ(y.shape(), Shape({2, 1, 8, 8}));
  const std::vector<double> v = y.to_vector();
  for (double e : v) EXPECT_TRUE(e > 0 && e < 1);
  EXPECT_EQ(u.find("dec.0.up.weight").shape(), Shape({64, 128, 1, 1}));  // nearest x2, then 1x1: 128 -> 64
  EXPECT_EQ(u.find("enc.0.conv.0.reduce.weight").shape(), Shape({4, 16, 1, 1}));
  EXPECT_EQ(u.find("enc.0.se.fc1.weight").shape(), Shape({16, 32}));
}

// Slices of any size (section "padding" of models/unet.h): run_padded equals run() on the input padded by
// hand at the bottom and right with the fill value, cropped back; the auxiliary outputs are cropped to
// ceil(H / 2^(k+1)). A fill of another value changes the border pixels, so the padding is really used.
TEST(UNet, RunPaddedTakesSlicesOfAnySize) {
  UNetConfig c;
  c.filter_start = c.filter_start_up = 4;
  c.structure = {1, 1, 1, 1};
  c.dropout = 0;
  c.channels = 1;
  c.use_auxiliary_inputs = true;
  UNet u(c);
  EXPECT_EQ(u.size_divisor(), 8);
  EXPECT_EQ(padded_extent(122, 8), 128);
  EXPECT_EQ(padded_extent(101, 8), 104);
  EXPECT_EQ(padded_extent(104, 8), 104);
  const int64_t h = 21, w = 13;
  const Tensor x = randn({2, 1, h, w}, 7, DType::kFloat64, false);
  Tensor manual = Tensor::full({2, 1, 24, 16}, -0.5, DType::kFloat64);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t r = 0; r < h; ++r)
      for (int64_t q = 0; q < w; ++q)
        manual.data<double>()[(n * 24 + r) * 16 + q] = x.data<double>()[(n * h + r) * w + q];
  u.to(DType::kFloat64);
  u.eval();
  const UNetOutput got = u.run_padded(x, -0.5);
  const Tensor want = u.run(manual).out;
  ASSERT_EQ(got.out.shape(), Shape({2, 2, h, w}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 2; ++k)
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q)
          ASSERT_EQ(got.out.data<double>()[((n * 2 + k) * h + r) * w + q],
                    want.data<double>()[((n * 2 + k) * 24 + r) * 16 + q])
              << n << " " << k << " " << r << " " << q;
  const Tensor other = u.run_padded(x, 3.0).out;
  EXPECT_NE(other.data<double>()[(h - 1) * w + w - 1], got.out.data<double>()[(h - 1) * w + w - 1]);
  u.train();
  const UNetOutput t = u.run_padded(x, -0.5);
  ASSERT_EQ(t.aux.size(), 3u);
  EXPECT_EQ(t.aux[0].shape(), Shape({2, 2, 11, 7}));
  EXPECT_EQ(t.aux[1].shape(), Shape({2, 2, 6, 4}));
  EXPECT_EQ(t.aux[2].shape(), Shape({2, 2, 3, 2}));
  // An input that already fits goes through unpadded.
  EXPECT_EQ(pad_to_multiple(manual, 8, 0.0).data_ptr(), manual.data_ptr());
}

}  // namespace
}  // namespace lits::testing
