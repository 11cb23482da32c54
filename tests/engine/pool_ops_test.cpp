// Pooling, resampling, dropout and squeeze-excitation ops: gradient checks and CUDA parity at
// several shapes (odd sizes, batch > 1, H != W, views), values worked out by hand, the dropout
// mask against the Philox draws it is defined by, and the errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

std::vector<double> v(const Tensor& t) { return t.to_vector(); }

// ---- gradient checks and parity (random normal inputs have no ties; kinks are skipped) ----
LITS_OP_CASE(max_pool2d, unet_3_2_1) {
  return {[](const Inputs& x) { return max_pool2d(x[0], 3, 2, 1); }, normal_inputs({{2, 3, 7, 6}})};
}
LITS_OP_CASE(max_pool2d, kernel2_stride2) {
  return {[](const Inputs& x) { return max_pool2d(x[0], 2, 2, 0); }, normal_inputs({{1, 2, 6, 9}})};
}
LITS_OP_CASE(max_pool2d, overlapping_stride1) {
  return {[](const Inputs& x) { return max_pool2d(x[0], 3, 1, 1); }, normal_inputs({{2, 2, 5, 4}})};
}
LITS_OP_CASE(max_pool2d, of_view) {
  return {[](const Inputs& x) { return max_pool2d(narrow(x[0], 3, 1, 5), 3, 2, 1); }, normal_inputs({{2, 2, 5, 7}})};
}
LITS_OP_CASE(upsample_nearest2x, odd_shape) {
  return {[](const Inputs& x) { return upsample_nearest2x(x[0]); }, normal_inputs({{2, 3, 3, 5}})};
}
LITS_OP_CASE(upsample_nearest2x, single_pixel) {
  return {[](const Inputs& x) { return upsample_nearest2x(x[0]); }, normal_inputs({{3, 4, 1, 1}})};
}
LITS_OP_CASE(upsample_nearest2x, after_pool) {
  return {[](const Inputs& x) { return mul(upsample_nearest2x(max_pool2d(x[0], 2, 2, 0)), x[1]); },
          normal_inputs({{2, 2, 4, 6}, {2, 2, 4, 6}})};
}
// A fixed generator inside the function: every evaluation draws the same mask.
LITS_OP_CASE(dropout2d, p0_3) {
  return {[](const Inputs& x) {
            Generator g(5);
            return dropout2d(x[0], 0.3, true, g);
          },
          normal_inputs({{2, 5, 3, 4}})};
}
LITS_OP_CASE(dropout2d, p0_5_of_view) {
  return {[](const Inputs& x) {
            Generator g(11);
            g.reserve(3);
            return dropout2d(narrow(x[0], 2, 1, 3), 0.5, true, g);
          },
          normal_inputs({{3, 4, 5, 2}})};
}
LITS_OP_CASE(global_avg_pool, odd_shape) {
  return {[](const Inputs& x) { return global_avg_pool(x[0]); }, normal_inputs({{2, 3, 5, 4}})};
}
LITS_OP_CASE(global_avg_pool, one_pixel) {
  return {[](const Inputs& x) { return global_avg_pool(x[0]); }, normal_inputs({{3, 2, 1, 1}})};
}
LITS_OP_CASE(global_avg_pool, tall) {
  return {[](const Inputs& x) { return global_avg_pool(x[0]); }, normal_inputs({{1, 4, 9, 3}})};
}
LITS_OP_CASE(channel_scale, odd_shape) {
  return {[](const Inputs& x) { return channel_scale(x[0], x[1]); }, normal_inputs({{2, 3, 5, 4}, {2, 3}})};
}
LITS_OP_CASE(channel_scale, wide) {
  return {[](const Inputs& x) { return channel_scale(x[0], x[1]); }, normal_inputs({{1, 4, 3, 7}, {1, 4}})};
}
// The whole squeeze-excitation gate, with x reaching the output along two paths.
LITS_OP_CASE(channel_scale, squeeze_excite) {
  return {[](const Inputs& x) { return channel_scale(x[0], sigmoid(global_avg_pool(x[0]))); },
          normal_inputs({{2, 4, 3, 5}})};
}

// ---- CUDA parity at sizes that take the block and many-window paths ----
LITS_PARITY_TEST(max_pool2d, large_unet) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return max_pool2d(x[0], 3, 2, 1); },
                std::vector<Tensor>{randn({4, 32, 129, 128}, 21, DType::kFloat32)}, 0.0, 0.0);
}

LITS_PARITY_TEST(upsample_nearest2x, large) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return upsample_nearest2x(x[0]); },
                std::vector<Tensor>{randn({4, 32, 64, 65}, 22, DType::kFloat32)}, 0.0, 0.0);
}

LITS_PARITY_TEST(global_avg_pool, large_planes) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return global_avg_pool(x[0]); },
                std::vector<Tensor>{randn({4, 64, 128, 129}, 23, DType::kFloat32)}, 1e-5, 1e-6);
}

LITS_PARITY_TEST(channel_scale, large_planes) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return channel_scale(x[0], x[1]); },
                std::vector<Tensor>{randn({4, 64, 96, 97}, 24, DType::kFloat32), randn({4, 64}, 25, DType::kFloat32)},
                1e-5, 1e-4);
}

LITS_PARITY_TEST(dropout2d, same_mask_large) {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    Generator a(42), b(42);
    a.reserve(12345);
    b.reserve(12345);
    const Tensor x = Tensor::ones({64, 4096, 1, 2}, dt);
    const Tensor c = dropout2d(x, 0.4, true, a);
    const Tensor g = dropout2d(x.to(Device::cuda(0)), 0.4, true, b);
    const auto r = compare_tensors(std::string("dropout2d mask ") + dtype_name(dt), c, g, 0.0, 0.0);
    EXPECT_TRUE(r.ok) << r.report;
    EXPECT_EQ(a.offset(), b.offset());
  }
}

// ---- values by hand ----
TEST(PoolOps, MaxPool3x3Stride2Pad1On4x4) {
  // Windows (rows x cols, padding clipped): [0,1]x[0,1], [0,1]x[1,3], [1,3]x[0,1], [1,3]x[1,3].
  const Tensor x = Tensor::from_values({1, 5, 2, 0,    //
                                        3, 9, 4, 8,    //
                                        7, 6, 11, 10,  //
                                        15, 12, 13, 14},
                                       {1, 1, 4, 4}, DType::kFloat64)
                       .set_requires_grad(true);
  const Tensor y = max_pool2d(x, 3, 2, 1);
  EXPECT_EQ(y.shape(), Shape({1, 1, 2, 2}));
  EXPECT_EQ(v(y), (std::vector<double>{9, 9, 15, 14}));
  // The 9 wins two windows, so its gradient is the sum of both.
  y.backward(Tensor::from_values({1, 2, 3, 4}, {1, 1, 2, 2}, DType::kFloat64));
  EXPECT_EQ(v(x.grad()), (std::vector<double>{0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4}));
}

TEST(PoolOps, MaxPoolPaddingNeverWins) {
  // All values negative: zero padding would win every window; -inf padding never does.
  const Tensor x = Tensor::from_values({-4, -3, -2, -1}, {1, 1, 2, 2}, DType::kFloat64);
  EXPECT_EQ(v(max_pool2d(x, 3, 1, 1)), (std::vector<double>{-1, -1, -1, -1}));
  EXPECT_EQ(v(max_pool2d(x, 2, 2, 1)), (std::vector<double>{-4, -3, -2, -1}));
}

TEST(PoolOps, MaxPoolTiesGoToTheFirstMaximumInRowMajorOrder) {
  const Tensor x = Tensor::ones({1, 1, 3, 3}, DType::kFloat64).set_requires_grad(true);
  const Tensor y = max_pool2d(x, 2, 1, 0);
  y.backward(Tensor::ones({1, 1, 2, 2}, DType::kFloat64));
  // Window (i, j) starts at pixel (i, j), which is its first element.
  EXPECT_EQ(v(x.grad()), (std::vector<double>{1, 1, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(PoolOps, MaxPoolOutputSizesFollowPyTorch) {
  const Tensor x = Tensor::zeros({2, 3, 7, 6});
  EXPECT_EQ(max_pool2d(x, 3, 2, 1).shape(), Shape({2, 3, 4, 3}));
  EXPECT_EQ(max_pool2d(x, 2, 2, 0).shape(), Shape({2, 3, 3, 3}));
  EXPECT_EQ(max_pool2d(x, 3, 3, 1).shape(), Shape({2, 3, 3, 2}));  // (7 + 2 - 3) / 3 + 1, floor(5 / 3) + 1
  EXPECT_EQ(max_pool2d(x, 6, 1, 0).shape(), Shape({2, 3, 2, 1}));
}

TEST(PoolOps, MaxPoolBatchAndChannelsAreIndependent) {
  // Plane (n, c) holds the constant 10n + c plus a ramp; every window max is at its last pixel.
  std::vector<double> vals;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 16; ++i) vals.push_back(10 * n + c + 0.01 * i);
  const std::vector<double> y = v(max_pool2d(Tensor::from_values(vals, {2, 3, 4, 4}, DType::kFloat64), 2, 2, 0));
  for (int p = 0; p < 6; ++p) {
    const double base = 10 * (p / 3) + p % 3;
    EXPECT_NEAR(y[4 * p + 0], base + 0.05, 1e-12);
    EXPECT_NEAR(y[4 * p + 1], base + 0.07, 1e-12);
    EXPECT_NEAR(y[4 * p + 2], base + 0.13, 1e-12);
    EXPECT_NEAR(y[4 * p + 3], base + 0.15, 1e-12);
  }
}

TEST(PoolOps, UpsampleNearest2xValuesAndBlockSums) {
  const Tensor x = Tensor::from_values({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}, DType::kFloat64).set_requires_grad(true);
  const Tensor y = upsample_nearest2x(x);
  EXPECT_EQ(y.shape(), Shape({1, 1, 4, 6}));
  EXPECT_EQ(v(y), (std::vector<double>{1, 1, 2, 2, 3, 3,  //
                                       1, 1, 2, 2, 3, 3,  //
                                       4, 4, 5, 5, 6, 6,  //
                                       4, 4, 5, 5, 6, 6}));
  std::vector<double> g(24);
  for (int i = 0; i < 24; ++i) g[i] = i;
  y.backward(Tensor::from_values(g, {1, 1, 4, 6}, DType::kFloat64));
  // Block (h, w) sums g at rows 2h, 2h+1 and columns 2w, 2w+1.
  EXPECT_EQ(v(x.grad()), (std::vector<double>{0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11,  //
                                              12 + 13 + 18 + 19, 14 + 15 + 20 + 21, 16 + 17 + 22 + 23}));
}

TEST(PoolOps, UpsampleKeepsPlanesApart) {
  const std::vector<double> y = v(upsample_nearest2x(Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3, 1, 1})));
  ASSERT_EQ(y.size(), 24u);
  for (int p = 0; p < 6; ++p)
    for (int k = 0; k < 4; ++k) EXPECT_EQ(y[4 * p + k], p + 1);
}

TEST(PoolOps, Dropout2dMaskIsThePhiloxDrawPerChannel) {
  // Channel (n, c) keeps iff the float32 uniform at counter offset + n*C + c is >= p.
  const int64_t n = 3, c = 50;
  const double p = 0.25;
  Generator gen(17), ref(17);
  gen.reserve(5);
  ref.reserve(5);
  const std::vector<double> y = v(dropout2d(Tensor::ones({n, c, 2, 3}, DType::kFloat64), p, true, gen));
  const std::vector<double> u = v(uniform({n * c}, 0.0, 1.0, ref, DType::kFloat32));
  EXPECT_EQ(gen.offset(), ref.offset());
  int dropped = 0;
  for (int64_t j = 0; j < n * c; ++j) {
    const double expect = u[j] >= p ? 1.0 / (1.0 - p) : 0.0;
    dropped += expect == 0.0;
    for (int k = 0; k < 6; ++k) EXPECT_EQ(y[j * 6 + k], expect) << "channel " << j << " pixel " << k;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, n * c);
}

TEST(PoolOps, Dropout2dDropsAboutPWholeChannelsAndScalesTheRestExactly) {
  const double p = 0.3;
  Generator gen(3);
  const std::vector<double> y = v(dropout2d(Tensor::ones({8, 2500, 1, 2}), p, true, gen));
  const double kept = static_cast<float>(1.0 / (1.0 - p));
  int64_t zeros = 0;
  for (size_t j = 0; j < y.size() / 2; ++j) {
    EXPECT_EQ(y[2 * j], y[2 * j + 1]) << "channel " << j << " is not dropped whole";
    if (y[2 * j] == 0.0) {
      ++zeros;
    } else {
      EXPECT_EQ(y[2 * j], kept) << "channel " << j;
    }
  }
  // 20000 channels: the standard deviation of the fraction is 0.0032; 0.02 is over 6 sigma.
  EXPECT_NEAR(static_cast<double>(zeros) / 20000.0, p, 0.02);
}

TEST(PoolOps, Dropout2dKeptValuesAreXTimesTheScale) {
  Generator gen(8);
  const Tensor x = randn({2, 6, 3, 3}, 4);
  const std::vector<double> y = v(dropout2d(x, 0.5, true, gen));
  const std::vector<double> xs = v(x);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_TRUE(y[i] == 0.0 || y[i] == xs[i] * 2.0) << "element " << i;
}

TEST(PoolOps, Dropout2dBackwardUsesTheSameMask) {
  Generator gen(12);
  const Tensor x = randn({3, 5, 2, 4}, 6);
  const Tensor y = dropout2d(x, 0.4, true, gen);
  sum(y).backward();
  const std::vector<double> ys = v(y), gx = v(x.grad());
  for (size_t i = 0; i < ys.size(); ++i) EXPECT_EQ(gx[i], ys[i] == 0.0 ? 0.0 : 1.0 / 0.6) << "element " << i;
}

TEST(PoolOps, Dropout2dIsTheIdentityInEvalModeAndForPZero) {
  Generator gen(1);
  const Tensor x = randn({2, 3, 4, 4}, 2);
  EXPECT_TRUE(dropout2d(x, 0.5, false, gen).same(x));
  EXPECT_TRUE(dropout2d(x, 0.0, true, gen).same(x));
  EXPECT_EQ(gen.offset(), 0u) << "no mask drawn, so the generator does not advance";
}

TEST(PoolOps, Dropout2dSameGeneratorStateSameMask) {
  Generator a(9), b(9);
  const Tensor x = Tensor::ones({4, 25, 2, 2});
  const std::vector<double> first = v(dropout2d(x, 0.5, true, a));
  EXPECT_EQ(first, v(dropout2d(x, 0.5, true, b)));
  EXPECT_EQ(a.offset(), 100u);
  EXPECT_NE(first, v(dropout2d(x, 0.5, true, a))) << "the next draw uses the next counters";
}

TEST(PoolOps, Dropout2dMaskDoesNotDependOnDtype) {
  Generator a(21), b(21);
  const std::vector<double> f = v(dropout2d(Tensor::ones({2, 40, 1, 1}), 0.5, true, a));
  const std::vector<double> d = v(dropout2d(Tensor::ones({2, 40, 1, 1}, DType::kFloat64), 0.5, true, b));
  EXPECT_EQ(f, d);
}

TEST(PoolOps, GlobalAvgPoolValuesAndGradient) {
  const Tensor x = Tensor::from_values({1, 2, 3, 4, 5, 6, 7, 9}, {2, 1, 2, 2}, DType::kFloat64).set_requires_grad(true);
  const Tensor y = global_avg_pool(x);
  EXPECT_EQ(y.shape(), Shape({2, 1}));
  EXPECT_EQ(v(y), (std::vector<double>{2.5, 6.75}));
  y.backward(Tensor::from_values({1, -2}, {2, 1}, DType::kFloat64));
  EXPECT_EQ(v(x.grad()), (std::vector<double>{0.25, 0.25, 0.25, 0.25, -0.5, -0.5, -0.5, -0.5}));
}

TEST(PoolOps, GlobalAvgPoolAccumulatesInDouble) {
  // 2^20 copies of 0.1f: the double sum is exact, so the mean is 0.1f exactly; a float sum drifts.
  const std::vector<double> y = v(global_avg_pool(Tensor::full({1, 2, 1024, 1024}, 0.1)));
  EXPECT_EQ(y, (std::vector<double>{0.1f, 0.1f}));
}

TEST(PoolOps, ChannelScaleValuesAndGradients) {
  const Tensor x = Tensor::from_values({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2}, DType::kFloat64).set_requires_grad(true);
  const Tensor s = Tensor::from_values({10, -1, 0.5, 2}, {2, 2}, DType::kFloat64).set_requires_grad(true);
  const Tensor y = channel_scale(x, s);
  EXPECT_EQ(v(y), (std::vector<double>{10, 20, -3, -4, 2.5, 3, 14, 16}));
  y.backward(Tensor::from_values({1, 1, 1, 1, 1, -1, 2, 0}, {2, 2, 1, 2}, DType::kFloat64));
  EXPECT_EQ(v(x.grad()), (std::vector<double>{10, 10, -1, -1, 0.5, -0.5, 4, 0}));
  EXPECT_EQ(v(s.grad()), (std::vector<double>{1 + 2, 3 + 4, 5 - 6, 14}));
}

TEST(PoolOps, ChannelScaleGradientOfOneOperandOnly) {
  const Tensor x = Tensor::from_values({1, 2, 3, 4}, {1, 2, 1, 2}, DType::kFloat64);
  const Tensor s = Tensor::from_values({3, -2}, {1, 2}, DType::kFloat64).set_requires_grad(true);
  sum(channel_scale(x, s)).backward();
  EXPECT_EQ(v(s.grad()), (std::vector<double>{3, 7}));
  const Tensor x2 = Tensor::from_values({1, 2, 3, 4}, {1, 2, 1, 2}, DType::kFloat64).set_requires_grad(true);
  sum(channel_scale(x2, Tensor::from_values({3, -2}, {1, 2}, DType::kFloat64))).backward();
  EXPECT_EQ(v(x2.grad()), (std::vector<double>{3, 3, -2, -2}));
}

// ---- bad input ----
TEST(PoolOps, MaxPoolRejectsWrongNdim) {
  const std::string m = error_of([] { max_pool2d(Tensor::zeros({3, 4, 4}), 3, 2, 1); });
  expect_contains(m, {"max_pool2d", "float32[3, 4, 4]", "[N, C, H, W]", ".cpp:"});
}

TEST(PoolOps, MaxPoolRejectsAnEmptyOutput) {
  const std::string m = error_of([] { max_pool2d(Tensor::zeros({1, 1, 2, 2}), 5, 1, 1); });
  expect_contains(m, {"max_pool2d", "kernel 5", "padding 1", "[1, 1, 2, 2]", "empty output"});
}

TEST(PoolOps, MaxPoolRejectsBadWindowParameters) {
  expect_contains(error_of([] {
                    max_pool2d(Tensor::zeros({1, 1, 4, 4}), 3, 0, 1);
                  }),
                  {"max_pool2d", "stride 0", "stride >= 1"});
  expect_contains(error_of([] { max_pool2d(Tensor::zeros({1, 1, 4, 4}), 0, 1, 0); }), {"max_pool2d", "kernel 0"});
  expect_contains(error_of([] { max_pool2d(Tensor::zeros({1, 1, 4, 4}), 2, 1, -1); }), {"max_pool2d", "padding -1"});
  expect_contains(error_of([] {
                    max_pool2d(Tensor::zeros({1, 1, 8, 8}), 3, 2, 2);
                  }),
                  {"max_pool2d", "padding 2", "kernel 3", "padding <= kernel / 2"});
}

TEST(PoolOps, UpsampleRejectsWrongNdim) {
  const std::string m = error_of([] { upsample_nearest2x(Tensor::zeros({2, 3})); });
  expect_contains(m, {"upsample_nearest2x", "float32[2, 3]", "[N, C, H, W]"});
}

TEST(PoolOps, Dropout2dRejectsPOutOfRange) {
  const Tensor x = Tensor::zeros({2, 3, 4, 4});
  expect_contains(error_of([&] { dropout2d(x, 1.0, true); }), {"dropout2d", "p 1", "[0, 1)", "[2, 3, 4, 4]"});
  expect_contains(error_of([&] { dropout2d(x, -0.1, true); }), {"dropout2d", "p -0.1", "[0, 1)"});
  expect_contains(error_of([&] { dropout2d(x, 1.5, false); }), {"dropout2d", "p 1.5"});
  expect_contains(error_of([&] { dropout2d(x, std::nan(""), true); }), {"dropout2d", "p nan"});
}

TEST(PoolOps, Dropout2dRejectsWrongNdim) {
  const std::string m = error_of([] { dropout2d(Tensor::zeros({2, 3, 4}), 0.5, true); });
  expect_contains(m, {"dropout2d", "float32[2, 3, 4]", "[N, C, H, W]"});
}

TEST(PoolOps, GlobalAvgPoolRejectsWrongNdimAndEmptyPlanes) {
  expect_contains(error_of([] {
                    global_avg_pool(Tensor::zeros({2, 3}));
                  }),
                  {"global_avg_pool", "float32[2, 3]", "[N, C, H, W]"});
  expect_contains(error_of([] {
                    global_avg_pool(Tensor::zeros({2, 3, 0, 4}));
                  }),
                  {"global_avg_pool", "[2, 3, 0, 4]", "H >= 1"});
}

TEST(PoolOps, ChannelScaleRejectsMismatchedScale) {
  const Tensor x = Tensor::zeros({2, 3, 4, 4});
  expect_contains(error_of([&] {
                    channel_scale(x, Tensor::zeros({2, 4}));
                  }),
                  {"channel_scale", "s float32[2, 4]", "x float32[2, 3, 4, 4]", "expected s of shape [2, 3]"});
  expect_contains(error_of([&] { channel_scale(x, Tensor::zeros({3})); }), {"channel_scale", "[3]", "[2, 3]"});
  expect_contains(error_of([&] {
                    channel_scale(x, Tensor::zeros({2, 3}, DType::kFloat64));
                  }),
                  {"channel_scale", "one dtype"});
  expect_contains(error_of([] {
                    channel_scale(Tensor::zeros({2, 3}), Tensor::zeros({2, 3}));
                  }),
                  {"channel_scale", "x float32[2, 3]", "[N, C, H, W]"});
}

}  // namespace
}  // namespace lits::testing
