// Convolution and transposed convolution: forward values against plain loops written here,
// float64 gradient checks and CUDA parity at the shapes the UNet uses (odd sizes, batch > 1,
// stride 2, dilation, every pypool head), oneDNN against the reference kernels, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/ops.h"
#include "kernels/conv.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"

namespace lits::testing {
namespace {

// ---- independent oracles: the definition, one output (or input) element at a time ----

std::vector<double> naive_conv(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>* b,
                               int N, int Ci, int H, int W, int Co, int K, int s, int p, int d, int Ho, int Wo) {
  std::vector<double> y(static_cast<size_t>(N * Co * Ho * Wo));
  for (int n = 0; n < N; ++n)
    for (int co = 0; co < Co; ++co)
      for (int oh = 0; oh < Ho; ++oh)
        for (int ow = 0; ow < Wo; ++ow) {
          double acc = b ? (*b)[co] : 0.0;
          for (int ci = 0; ci < Ci; ++ci)
            for (int kh = 0; kh < K; ++kh)
              for (int kw = 0; kw < K; ++kw) {
                const int ih = oh * s - p + kh * d, iw = ow * s - p + kw * d;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * Ci + ci) * H + ih) * W + iw] * w[((co * Ci + ci) * K + kh) * K + kw];
              }
          y[((n * Co + co) * Ho + oh) * Wo + ow] = acc;
        }
  return y;
}

// Transposed convolution as a scatter: each input pixel adds w * x to the outputs it reaches.
std::vector<double> naive_conv_transpose(const std::vector<double>& x, const std::vector<double>& w, int N, int Ci,
                                         int H, int W, int Co, int K, int s, int p, int d, int Ho, int Wo) {
  std::vector<double> y(static_cast<size_t>(N * Co * Ho * Wo), 0.0);
  for (int n = 0; n < N; ++n)
    for (int ci = 0; ci < Ci; ++ci)
      for (int ih = 0; ih < H; ++ih)
        for (int iw = 0; iw < W; ++iw)
          for (int co = 0; co < Co; ++co)
            for (int kh = 0; kh < K; ++kh)
              for (int kw = 0; kw < K; ++kw) {
                const int oh = ih * s - p + kh * d, ow = iw * s - p + kw * d;
                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                y[((n * Co + co) * Ho + oh) * Wo + ow] +=
                    x[((n * Ci + ci) * H + ih) * W + iw] * w[((ci * Co + co) * K + kh) * K + kw];
              }
  return y;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "element " << i;
}

struct ConvCase {
  int N, Ci, H, W, Co, K, s, p, d;
};

TEST(Conv, ForwardMatchesTheDefinition) {
  for (const ConvCase& c :
       {ConvCase{2, 3, 7, 5, 4, 3, 1, 1, 1}, ConvCase{1, 2, 9, 8, 3, 3, 2, 1, 1}, ConvCase{2, 2, 9, 9, 2, 3, 1, 2, 2},
        ConvCase{1, 4, 6, 7, 5, 1, 1, 0, 1}, ConvCase{3, 1, 8, 8, 2, 3, 2, 0, 3}}) {
    const Tensor x = randn({c.N, c.Ci, c.H, c.W}, 1, DType::kFloat64, false);
    const Tensor w = randn({c.Co, c.Ci, c.K, c.K}, 2, DType::kFloat64, false);
    const Tensor b = randn({c.Co}, 3, DType::kFloat64, false);
    const Tensor y = conv2d(x, w, b, {c.s, c.p, c.d});
    const int Ho = (c.H + 2 * c.p - c.d * (c.K - 1) - 1) / c.s + 1,
              Wo = (c.W + 2 * c.p - c.d * (c.K - 1) - 1) / c.s + 1;
    EXPECT_EQ(y.shape(), Shape({c.N, c.Co, Ho, Wo}));
    const std::vector<double> bv = b.to_vector();
    expect_close(y.to_vector(),
                 naive_conv(x.to_vector(), w.to_vector(), &bv, c.N, c.Ci, c.H, c.W, c.Co, c.K, c.s, c.p, c.d, Ho, Wo),
                 1e-12);
  }
}

TEST(Conv, TransposedForwardMatchesTheDefinition) {
  // k4 s2 p1 (the UNet's upsampler) and two pypool heads.
  for (const ConvCase& c : {ConvCase{2, 3, 4, 5, 2, 4, 2, 1, 1}, ConvCase{1, 2, 2, 2, 1, 16, 8, 4, 1},
                            ConvCase{1, 2, 3, 2, 1, 8, 4, 2, 1}, ConvCase{1, 2, 3, 3, 3, 3, 1, 2, 2}}) {
    const Tensor x = randn({c.N, c.Ci, c.H, c.W}, 4, DType::kFloat64, false);
    const Tensor w = randn({c.Ci, c.Co, c.K, c.K}, 5, DType::kFloat64, false);
    const Tensor y = conv_transpose2d(x, w, Tensor(), {c.s, c.p, c.d});
    const int Ho = (c.H - 1) * c.s - 2 * c.p + c.d * (c.K - 1) + 1,
              Wo = (c.W - 1) * c.s - 2 * c.p + c.d * (c.K - 1) + 1;
    EXPECT_EQ(y.shape(), Shape({c.N, c.Co, Ho, Wo}));
    expect_close(
        y.to_vector(),
        naive_conv_transpose(x.to_vector(), w.to_vector(), c.N, c.Ci, c.H, c.W, c.Co, c.K, c.s, c.p, c.d, Ho, Wo),
        1e-12);
  }
}

TEST(Conv, PypoolHeadsRestoreTheFullResolution) {
  // The Big preset's heads at a 256 crop: 8 -> 256, 16 -> 256, ..., 128 -> 256 (section 2.6).
  const int64_t spec[][4] = {{8, 64, 32, 16}, {16, 32, 16, 8}, {32, 16, 8, 4}, {64, 8, 4, 2}, {128, 4, 2, 1}};
  for (const auto& h : spec) {
    const Tensor x = Tensor::zeros({1, 1, h[0], h[0]});
    const Tensor w = Tensor::zeros({1, 1, h[1], h[1]});
    EXPECT_EQ(conv_transpose2d(x, w, Tensor(), {h[2], h[3], 1}).shape(), Shape({1, 1, 256, 256})) << "k" << h[1];
  }
}

// ---- gradient checks and CUDA parity ----
InputMaker conv_inputs(Shape x, Shape w, bool bias, uint64_t seed = 21) {
  std::vector<Shape> shapes{x, w};
  if (bias) shapes.push_back(Shape{w[0]});
  return normal_inputs(shapes, seed);
}

OpCase conv_case(Shape x, Shape w, ConvParams p, bool bias = true) {
  OpCase c{[p, bias](const Inputs& in) { return conv2d(in[0], in[1], bias ? in[2] : Tensor(), p); },
           conv_inputs(x, w, bias)};
  c.rtol = 1e-4;  // sums of Cin*k*k products: cuDNN and oneDNN order them differently
  c.atol = 1e-4;
  return c;
}

OpCase conv_t_case(Shape x, Shape w, ConvParams p, bool bias = true) {
  const Shape wt = w;
  OpCase c{[p, bias](const Inputs& in) { return conv_transpose2d(in[0], in[1], bias ? in[2] : Tensor(), p); },
           normal_inputs(bias ? std::vector<Shape>{x, w, Shape{wt[1]}} : std::vector<Shape>{x, w}, 23)};
  c.rtol = 1e-4;
  c.atol = 1e-4;
  return c;
}

LITS_OP_CASE(conv2d, k3_pad1_batch2_odd) { return conv_case({2, 3, 5, 7}, {4, 3, 3, 3}, {1, 1, 1}); }
LITS_OP_CASE(conv2d, k3_stride2) { return conv_case({2, 2, 7, 6}, {3, 2, 3, 3}, {2, 1, 1}); }
LITS_OP_CASE(conv2d, k3_dilation2) { return conv_case({1, 2, 7, 7}, {2, 2, 3, 3}, {1, 2, 2}); }
LITS_OP_CASE(conv2d, k3_dilation3_no_bias) { return conv_case({2, 2, 8, 7}, {3, 2, 3, 3}, {1, 3, 3}, false); }
LITS_OP_CASE(conv2d, k1) { return conv_case({3, 4, 3, 5}, {2, 4, 1, 1}, {1, 0, 1}); }
LITS_OP_CASE(conv_transpose2d, k4_s2_p1_upsampler) { return conv_t_case({2, 3, 3, 4}, {3, 2, 4, 4}, {2, 1, 1}); }
LITS_OP_CASE(conv_transpose2d, pypool_k64_s32_p16) { return conv_t_case({1, 2, 2, 2}, {2, 1, 64, 64}, {32, 16, 1}); }
LITS_OP_CASE(conv_transpose2d, pypool_k32_s16_p8) { return conv_t_case({1, 2, 2, 3}, {2, 1, 32, 32}, {16, 8, 1}); }
LITS_OP_CASE(conv_transpose2d, pypool_k16_s8_p4) { return conv_t_case({2, 2, 3, 2}, {2, 1, 16, 16}, {8, 4, 1}); }
LITS_OP_CASE(conv_transpose2d, pypool_k8_s4_p2) { return conv_t_case({1, 3, 3, 3}, {3, 1, 8, 8}, {4, 2, 1}); }
LITS_OP_CASE(conv_transpose2d, pypool_k4_s2_p1) { return conv_t_case({2, 2, 4, 3}, {2, 1, 4, 4}, {2, 1, 1}); }
LITS_OP_CASE(conv_transpose2d, dilation2_no_bias) { return conv_t_case({1, 2, 3, 4}, {2, 3, 3, 3}, {1, 1, 2}, false); }

LITS_PARITY_TEST(conv2d, small_preset_first_encoder_conv) {
  // 20 -> 40 channels at 64 x 64 (the Small preset's first encoder conv, reduced crop). Each weight
  // gradient sums 2 x 64 x 64 = 8192 products of unit-variance values, so its values are of order
  // sqrt(8192) ~ 90, and two float32 summation orders (oneDNN's blocked kernel on the CPU, cuDNN or the
  // emulator's) differ by up to ~1e-5 of that whatever the element's own value (seen: 1.2e-3 on a large
  // element, 3.2e-4 on one of value 0.32). So atol is 4e-3, about 4e-5 of the scale; a wrong index or
  // a missed term would be off by order 1.
  expect_parity(
      [](const Inputs& x) {
        return conv2d(x[0], x[1], x[2], {1, 1, 1});
      },
      {randn({2, 20, 64, 64}, 1, DType::kFloat32), randn({40, 20, 3, 3}, 2, DType::kFloat32),
       randn({40}, 3, DType::kFloat32)},
      1e-4, 4e-3);
}

// ---- oneDNN against the reference kernels (float32) ----
TEST(Conv, OneDnnMatchesReferenceKernels) {
#if !LITS_HAVE_ONEDNN
  GTEST_SKIP() << "built without oneDNN";
#else
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  // Odd sizes with stride 2 exercise oneDNN's right padding; dilation 3 and a pypool-like head too.
  // The last three have channel counts oneDNN runs in its channel-blocked layouts (20 is padded to
  // 24 inside them; 1 input channel keeps a plain source): the reorders into and out of those.
  for (const ConvCase& c : {ConvCase{2, 5, 11, 9, 6, 3, 1, 1, 1}, ConvCase{2, 4, 11, 10, 3, 3, 2, 1, 1},
                            ConvCase{1, 3, 12, 12, 4, 3, 1, 3, 3}, ConvCase{1, 6, 33, 33, 2, 16, 8, 4, 1},
                            ConvCase{2, 20, 17, 19, 40, 3, 1, 1, 1}, ConvCase{1, 32, 16, 16, 64, 3, 2, 1, 1},
                            ConvCase{2, 1, 20, 20, 16, 3, 1, 1, 1}}) {
    kernels::ConvShape s{c.N, c.Ci, c.H, c.W, c.Co, c.K, 0, 0, c.s, c.p, c.d};
    s.Ho = kernels::conv_out_size(c.H, c.K, c.s, c.p, c.d);
    s.Wo = kernels::conv_out_size(c.W, c.K, c.s, c.p, c.d);
    auto rnd = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& e : v) e = nd(rng);
      return v;
    };
    const auto x = rnd(s.N * s.Ci * s.H * s.W), w = rnd(s.Co * s.Ci * s.K * s.K), b = rnd(s.Co);
    const auto dy = rnd(s.N * s.Co * s.Ho * s.Wo);
    std::vector<float> y1(dy.size()), y2(dy.size()), dx1(x.size()), dx2(x.size()), dw1(w.size()), dw2(w.size());
    kernels::conv2d_forward_onednn(s, x.data(), w.data(), b.data(), y1.data());
    kernels::conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y2.data());
    kernels::conv2d_backward_data_onednn(s, dy.data(), w.data(), dx1.data());
    kernels::conv2d_backward_data_cpu(s, dy.data(), w.data(), dx2.data());
    kernels::conv2d_backward_weight_onednn(s, x.data(), dy.data(), dw1.data());
    kernels::conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw2.data());
    // Relative to the magnitude of the sums (about sqrt(number of products)): 1e-5.
    auto check = [](const std::vector<float>& a, const std::vector<float>& r, double scale, const char* what) {
      double worst = 0;
      for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - r[i]) / scale);
      EXPECT_LT(worst, 1e-5) << what;
    };
    check(y1, y2, std::sqrt(double(s.Ci * s.K * s.K)), "forward");
    check(dx1, dx2, std::sqrt(double(s.Co * s.K * s.K)), "backward-data");
    check(dw1, dw2, std::sqrt(double(s.N * s.Ho * s.Wo)), "backward-weight");
  }
#endif
}

// ---- bad input ----
TEST(Conv, BadInputNamesLayerParametersAndShape) {
  const Tensor x = Tensor::zeros({1, 3, 4, 4});
  expect_contains(error_of([&] {
                    conv2d(x, Tensor::zeros({2, 3, 7, 7}), Tensor(), {1, 0, 1});
                  }),
                  {"conv2d", "k=7", "stride=1", "padding=0", "[1, 3, 4, 4]", "empty output"});
  expect_contains(error_of([&] {
                    conv2d(x, Tensor::zeros({2, 4, 3, 3}), Tensor(), {1, 1, 1});
                  }),
                  {"conv2d", "3 channels", "[2, 4, 3, 3]", "expects 4"});
  expect_contains(error_of([&] {
                    conv2d(x, Tensor::zeros({2, 3, 3, 3}), Tensor::zeros({3}), {1, 1, 1});
                  }),
                  {"conv2d", "bias", "[3]", "[Cout]"});
  expect_contains(error_of([&] {
                    conv2d(x, Tensor::zeros({2, 3, 3, 2}), Tensor(), {1, 1, 1});
                  }),
                  {"conv2d", "square kernel"});
  expect_contains(error_of([&] {
                    conv2d(x, Tensor::zeros({2, 3, 3, 3}), Tensor(), {0, 1, 1});
                  }),
                  {"conv2d", "stride=0", "stride >= 1"});
  expect_contains(error_of([&] {
                    conv_transpose2d(x, Tensor::zeros({2, 2, 4, 4}), Tensor(), {2, 1, 1});
                  }),
                  {"conv_transpose2d", "3 channels", "[Cin, Cout, k, k]"});
  expect_contains(error_of([&] {
                    conv_transpose2d(Tensor::zeros({1, 1, 1, 1}), Tensor::zeros({1, 1, 2, 2}), Tensor(), {1, 3, 1});
                  }),
                  {"conv_transpose2d", "padding=3", "empty output"});
}

}  // namespace
}  // namespace lits::testing
