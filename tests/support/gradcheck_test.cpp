// The gradient checker itself: it must reject a wrong backward, skip kinks, and respect the
// element cap. A checker that cannot fail would make every gradcheck in the suite worthless.
#include "tests/support/gradcheck.h"

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

// x * x with a backward that forgets the factor 2.
Tensor square_with_wrong_backward(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = mul(x, x);
  }
  const Tensor saved = x.detach();
  record_op("mul", {x}, {y},
            [saved](const std::vector<Tensor>& g) -> std::vector<Tensor> { return {mul(g[0], saved)}; });
  return y;
}

TEST(GradcheckHarness, RejectsAWrongBackward) {
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& x) { return square_with_wrong_backward(x[0]); }, {randn({3, 4}, 1)});
  EXPECT_FALSE(r.ok) << r.report;
  EXPECT_NE(r.report.find("gradient mismatch"), std::string::npos) << r.report;
}

TEST(GradcheckHarness, AcceptsTheRightBackward) {
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& x) { return mul(x[0], x[0]); }, {randn({3, 4}, 1)});
  EXPECT_TRUE(r.ok) << r.report;
  EXPECT_EQ(r.checked, 12);
}

TEST(GradcheckHarness, SkipsKinks) {
  // relu at exactly 0 has no derivative: those elements are skipped, the others checked.
  const Tensor x = Tensor::from_values({0.0, 1.0, -1.0, 0.0, 2.0}, {5}, DType::kFloat64).set_requires_grad(true);
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return relu(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.report;
  EXPECT_EQ(r.skipped_kinks, 2);
  EXPECT_EQ(r.checked, 3);
}

TEST(GradcheckHarness, CapsElementsOfLargeInputs) {
  GradcheckOptions opt;
  opt.max_elements = 50;
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& x) { return exp(x[0]); }, {randn({40, 40}, 2)}, opt);
  EXPECT_TRUE(r.ok) << r.report;
  EXPECT_EQ(r.checked + r.skipped_kinks, 50);
}

}  // namespace
}  // namespace lits::testing
