// The precision of float32 convolutions and GEMMs (engine/ops.h): names, the CPU twins' rounding
// (TF32: operands; bf16: operands and a convolution's product), float64 untouched, and the CUDA
// paths against the twins.
//
// Parity tolerances: TF32 operands are rounded the same on both devices, so only float32 summation
// order differs (the float32 parity tolerances). A bfloat16 product is rounded after sums that may
// differ in their last float32 bits, so an element may land on the neighbouring bfloat16: rtol 2^-7
// (one bfloat16 step), atol 2^-7 for elements near zero.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/precision.h"
#include "tests/support/errors.h"
#include "tests/support/op_cases.h"
#include "tests/support/parity.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

constexpr double kBf16Step = 1.0 / 128;

bool all_bf16(const Tensor& t) {
  for (double v : t.to_vector())
    if ((kernels::float_bits(static_cast<float>(v)) & 0xFFFFu) != 0) return false;
  return true;
}

Tensor rounded(const Tensor& t, kernels::MathMode m) {
  std::vector<double> v = t.to_vector();
  for (double& x : v)
    x = m == kernels::MathMode::kBf16 ? kernels::round_to_bf16(static_cast<float>(x))
                                      : kernels::round_to_tf32(static_cast<float>(x));
  return Tensor::from_values(v, t.shape(), DType::kFloat32);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double d = 0.0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::fabs(x[i] - y[i]));
  return d;
}

TEST(Precision, NamesParseAndOthersAreRefused) {
  for (Precision p : {Precision::kFp32, Precision::kTf32, Precision::kBf16})
    EXPECT_EQ(parse_precision(precision_name(p), "test"), p);
  expect_contains(error_of([] { parse_precision("fp16", "--precision"); }),
                  {"--precision", "'fp16'", "fp32, tf32 or bf16"});
  EXPECT_EQ(precision(), Precision::kFp32) << "the default";
  {
    PrecisionGuard g(Precision::kBf16);
    EXPECT_EQ(precision(), Precision::kBf16);
  }
  EXPECT_EQ(precision(), Precision::kFp32) << "the guard restores";
}

TEST(Precision, TheCpuTwinsRoundAsTheGpuDoes) {
  std::optional<NoGradGuard> no_grad(std::in_place);
  const Tensor x = randn({2, 6, 9, 8}, 1, DType::kFloat32, false), w = randn({5, 6, 3, 3}, 2, DType::kFloat32, false),
               b = randn({5}, 3, DType::kFloat32, false);
  const Tensor y32 = conv2d(x, w, b, {1, 1, 1});
  for (const auto m : {kernels::MathMode::kTf32, kernels::MathMode::kBf16}) {
    PrecisionGuard g(m == kernels::MathMode::kTf32 ? Precision::kTf32 : Precision::kBf16);
    const Tensor y = conv2d(x, w, b, {1, 1, 1});
    // fp32 arithmetic on the rounded operands, and in bf16 the product rounded before the bias.
    Tensor expect;
    {
      PrecisionGuard fp32(Precision::kFp32);
      if (m == kernels::MathMode::kBf16)
        expect = add(rounded(conv2d(rounded(x, m), rounded(w, m), Tensor(), {1, 1, 1}), m), reshape(b, {1, 5, 1, 1}));
      else
        expect = conv2d(rounded(x, m), rounded(w, m), b, {1, 1, 1});
    }
    EXPECT_EQ(y.to_vector(), expect.to_vector()) << precision_name(precision());
    // Rounding 54 products' operands to 8 or 11 bits moves a sum of values of order 1 by far more
    // than float32's 1e-6, and by far less than 1.
    EXPECT_GT(max_abs_diff(y, y32), 1e-4) << precision_name(precision());
    EXPECT_LT(max_abs_diff(y, y32), m == kernels::MathMode::kBf16 ? 0.3 : 0.05) << precision_name(precision());
    // A matmul's operands are rounded, its product stays float32.
    const Tensor a = randn({7, 13}, 4, DType::kFloat32, false), c = randn({13, 5}, 5, DType::kFloat32, false);
    Tensor mm;
    {
      PrecisionGuard fp32(Precision::kFp32);
      mm = matmul(rounded(a, m), rounded(c, m));
    }
    EXPECT_EQ(matmul(a, c).to_vector(), mm.to_vector());
  }
  // The gradients of a bf16 convolution are bfloat16 products; float64 ignores the precision.
  no_grad.reset();
  PrecisionGuard g(Precision::kBf16);
  const Tensor xg = randn({2, 4, 8, 8}, 6, DType::kFloat32), wg = randn({3, 4, 3, 3}, 7, DType::kFloat32);
  sum(conv2d(xg, wg, Tensor(), {1, 1, 1})).backward();
  EXPECT_TRUE(all_bf16(xg.grad()));
  EXPECT_TRUE(all_bf16(wg.grad()));
  const Tensor xd = randn({1, 3, 6, 6}, 8), wd = randn({2, 3, 3, 3}, 9);
  const Tensor yd = conv2d(xd, wd, Tensor(), {1, 1, 1});
  PrecisionGuard fp32(Precision::kFp32);
  EXPECT_EQ(yd.to_vector(), conv2d(xd, wd, Tensor(), {1, 1, 1}).to_vector());
}

LITS_PARITY_TEST(conv2d, tf32) {
  PrecisionGuard g(Precision::kTf32);
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) {
        return conv2d(x[0], x[1], x[2], {1, 1, 1});
      },
      std::vector<Tensor>{randn({2, 8, 12, 10}, 11, DType::kFloat32), randn({6, 8, 3, 3}, 12, DType::kFloat32),
                          randn({6}, 13, DType::kFloat32)},
      1e-4, 1e-3);
}

LITS_PARITY_TEST(conv2d, bf16) {
  PrecisionGuard g(Precision::kBf16);
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) {
        return conv2d(x[0], x[1], x[2], {2, 1, 1});
      },
      std::vector<Tensor>{randn({2, 8, 12, 10}, 14, DType::kFloat32), randn({6, 8, 3, 3}, 15, DType::kFloat32),
                          randn({6}, 16, DType::kFloat32)},
      kBf16Step, kBf16Step);
}

LITS_PARITY_TEST(conv_transpose2d, bf16) {
  PrecisionGuard g(Precision::kBf16);
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) {
        return conv_transpose2d(x[0], x[1], x[2], {2, 1, 1});
      },
      std::vector<Tensor>{randn({2, 6, 5, 7}, 17, DType::kFloat32), randn({6, 4, 4, 4}, 18, DType::kFloat32),
                          randn({4}, 19, DType::kFloat32)},
      kBf16Step, kBf16Step);
}

LITS_PARITY_TEST(linear, bf16) {
  PrecisionGuard g(Precision::kBf16);
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return linear(x[0], x[1], x[2]); },
                std::vector<Tensor>{randn({4, 40}, 20, DType::kFloat32), randn({10, 40}, 21, DType::kFloat32),
                                    randn({10}, 22, DType::kFloat32)},
                1e-4, 1e-4);
}

LITS_PARITY_TEST(matmul, tf32) {
  PrecisionGuard g(Precision::kTf32);
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); },
                std::vector<Tensor>{randn({33, 70}, 23, DType::kFloat32), randn({70, 9}, 24, DType::kFloat32)}, 1e-4,
                1e-4);
}

}  // namespace
}  // namespace lits::testing
