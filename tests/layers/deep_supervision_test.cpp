// Loss selection by name and deep supervision: main + sum_k 1/(k+1) * aux_k against nearest-
// downsampled targets and weightmaps, checked against the same sum built by hand.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "layers/loss.h"
#include "tests/support/errors.h"
#include "tests/support/gradcheck.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

// skimage.transform.resize(order=0, anti_aliasing=False) of an 8 x 8 ramp to 4 x 4 and 2 x 2 picks rows and
// columns 1, 3, 5, 7 and 2, 6 (checked with skimage 0.19): index s r + s/2.
TEST(DeepSupervision, NearestDownsamplingTakesTheReferencesPixels) {
  std::vector<int64_t> v(2 * 8 * 8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i);
  const Tensor t = Tensor::from_ints(v, {2, 8, 8});
  const std::vector<int64_t> by2 = downsample_nearest(t, 2).to_ints();
  ASSERT_EQ(by2.size(), 32u);
  EXPECT_EQ(std::vector<int64_t>(by2.begin(), by2.begin() + 8), (std::vector<int64_t>{9, 11, 13, 15, 25, 27, 29, 31}));
  EXPECT_EQ(by2[16], 64 + 9);
  EXPECT_EQ(downsample_nearest(t, 4).to_ints(), (std::vector<int64_t>{18, 22, 50, 54, 82, 86, 114, 118}));
  EXPECT_EQ(downsample_nearest(t, 8).to_ints(), (std::vector<int64_t>{36, 100}));
  expect_contains(error_of([&] { downsample_nearest(t, 3); }), {"downsample_nearest", "divisible"});
}

TEST(DeepSupervision, TotalIsMainPlusWeightedAuxLosses) {
  const int64_t B = 2, H = 8, W = 8;
  std::vector<int64_t> tv(B * H * W);
  for (size_t i = 0; i < tv.size(); ++i) tv[i] = static_cast<int64_t>((i / 3 + i / 8) % 2);
  const Tensor target = Tensor::from_ints(tv, {B, H, W});
  Generator g(2);
  const Tensor wmap = uniform({B, H, W}, 0.25, 1.0, g, DType::kFloat64);
  const Tensor main = softmax(randn({B, 2, H, W}, 1));
  const std::vector<Tensor> aux = {softmax(randn({B, 2, H / 2, W / 2}, 2)), softmax(randn({B, 2, H / 4, W / 4}, 3))};
  LossOptions o;
  o.wmap_weight = 3.0;
  for (LossType type : {LossType::kMulticlassPwce, LossType::kMulticlassCombined, LossType::kMulticlassDice}) {
    const double total = deep_supervision_loss(type, main, aux, target, wmap, o).item();
    const Tensor w = loss_uses_weightmap(type) ? wmap : Tensor();
    auto ds = [&](const Tensor& t, int64_t f) { return t.defined() ? downsample_nearest(t, f) : Tensor(); };
    const double expect = compute_loss(type, main, target, w, o).item() +
                          compute_loss(type, aux[0], ds(target, 2), ds(w, 2), o).item() +
                          0.5 * compute_loss(type, aux[1], ds(target, 4), ds(w, 4), o).item();
    EXPECT_NEAR(total, expect, 1e-12) << loss_type_name(type);
  }
}

TEST(DeepSupervision, GradientFlowsToEveryHead) {
  std::vector<int64_t> tv(2 * 4 * 4);
  for (size_t i = 0; i < tv.size(); ++i) tv[i] = static_cast<int64_t>(i % 3 == 0);
  const Tensor target = Tensor::from_ints(tv, {2, 4, 4});
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& x) {
        return deep_supervision_loss(LossType::kMulticlassCombined, softmax(x[0]), {softmax(x[1])}, target, Tensor(),
                                     {});
      },
      {randn({2, 2, 4, 4}, 4), randn({2, 2, 2, 2}, 5)});
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(DeepSupervision, LossNamesFollowTheReference) {
  EXPECT_EQ(parse_loss_type("multiclass_combined"), LossType::kMulticlassCombined);
  EXPECT_EQ(parse_loss_type("dice_ce"), LossType::kDiceCe);
  EXPECT_EQ(loss_output_channels(LossType::kBinaryPwce, 2), 1);
  EXPECT_EQ(loss_output_channels(LossType::kMulticlassPwce, 2), 2);
  EXPECT_TRUE(loss_takes_logits(LossType::kCrossEntropy));
  EXPECT_FALSE(loss_takes_logits(LossType::kMulticlassPwce));
  expect_contains(error_of([] { parse_loss_type("binary_dice"); }),
                  {"binary_dice", "unusable", "weighted_binary_dice"});
  expect_contains(error_of([] { parse_loss_type("l2"); }), {"'l2'", "multiclass_pwce"});
}

}  // namespace
}  // namespace lits::testing
