// The LiTS per-case metrics: overlap scores of offset boxes, surface distances worked out by hand (boxes,
// single voxels, anisotropic spacing, masks on the volume border), the empty-mask conventions, a brute-force
// cross-check on random blobs, the crop inside a large volume, and bad-input messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "pipeline/infer/lits_metrics.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

using Voxel = std::array<int64_t, 3>;

std::vector<uint8_t> empty_mask(const MaskDims& d) { return std::vector<uint8_t>(d.ni * d.nj * d.nk, 0); }

int64_t flat(const MaskDims& d, int64_t i, int64_t j, int64_t k) { return (k * d.nj + j) * d.ni + i; }

// Sets the box [i0, i1] x [j0, j1] x [k0, k1], bounds inclusive.
void fill_box(std::vector<uint8_t>& m, const MaskDims& d, Voxel lo, Voxel hi) {
  for (int64_t k = lo[2]; k <= hi[2]; ++k)
    for (int64_t j = lo[1]; j <= hi[1]; ++j)
      for (int64_t i = lo[0]; i <= hi[0]; ++i) m[flat(d, i, j, k)] = 1;
}

// Surface straight from the definition: mask voxels with a face neighbour outside the volume or the mask.
std::vector<Voxel> brute_surface(const std::vector<uint8_t>& m, const MaskDims& d) {
  const int64_t n[3] = {d.ni, d.nj, d.nk};
  std::vector<Voxel> out;
  for (int64_t k = 0; k < d.nk; ++k)
    for (int64_t j = 0; j < d.nj; ++j)
      for (int64_t i = 0; i < d.ni; ++i) {
        if (!m[flat(d, i, j, k)]) continue;
        bool surface = false;
        for (int axis = 0; axis < 3; ++axis)
          for (int64_t step : {-1, 1}) {
            Voxel v = {i, j, k};
            v[axis] += step;
            if (v[axis] < 0 || v[axis] >= n[axis] || !m[flat(d, v[0], v[1], v[2])]) surface = true;
          }
        if (surface) out.push_back({i, j, k});
      }
  return out;
}

struct SurfaceDistances {
  double assd = 0, mssd = 0;
};

// O(|S_P| |S_T|) over surface voxel pairs.
SurfaceDistances brute_distances(const std::vector<uint8_t>& pred, const std::vector<uint8_t>& truth, const MaskDims& d,
                                 const std::array<double, 3>& s) {
  const std::vector<Voxel> sp = brute_surface(pred, d), st = brute_surface(truth, d);
  double sum = 0, max = 0;
  auto directed = [&](const std::vector<Voxel>& from, const std::vector<Voxel>& to) {
    for (const Voxel& a : from) {
      double best = INFINITY;
      for (const Voxel& b : to) {
        double d2 = 0;
        for (int axis = 0; axis < 3; ++axis) d2 += std::pow((a[axis] - b[axis]) * s[axis], 2);
        best = std::min(best, d2);
      }
      sum += std::sqrt(best);
      max = std::max(max, std::sqrt(best));
    }
  };
  directed(sp, st);
  directed(st, sp);
  return {sum / static_cast<double>(sp.size() + st.size()), max};
}

TEST(LitsMetrics, IdenticalBoxesScorePerfectly) {
  const MaskDims d{12, 10, 8};
  auto p = empty_mask(d);
  fill_box(p, d, {2, 3, 1}, {9, 7, 6});
  const CaseMetrics m = case_metrics(p, p, d, {0.7, 0.7, 2.5});
  EXPECT_EQ(m.pred_voxels, 8 * 5 * 6);
  EXPECT_EQ(m.truth_voxels, 8 * 5 * 6);
  EXPECT_EQ(m.both_voxels, 8 * 5 * 6);
  EXPECT_EQ(m.dice, 1.0);
  EXPECT_EQ(m.voe, 0.0);
  EXPECT_EQ(m.rvd, 0.0);
  EXPECT_EQ(m.assd, 0.0);
  EXPECT_EQ(m.mssd, 0.0);
}

// 10x10x10 boxes offset by `shift` along i: |P n T| = (10 - shift) * 100, |P| + |T| = 2000, so
// Dice = 2 (10 - shift) 100 / 2000, VOE = 1 - (10 - shift) 100 / (2000 - (10 - shift) 100), RVD = 0.
TEST(LitsMetrics, BoxesOffsetAlongIScoreByOverlap) {
  for (int64_t shift : {1, 3}) {
    SCOPED_TRACE(shift);
    const MaskDims d{18, 12, 12};
    auto p = empty_mask(d), t = empty_mask(d);
    fill_box(p, d, {1, 1, 1}, {10, 10, 10});
    fill_box(t, d, {1 + shift, 1, 1}, {10 + shift, 10, 10});
    const CaseMetrics m = case_metrics(p, t, d, {1, 1, 1});
    const double both = (10.0 - shift) * 100;
    EXPECT_EQ(m.both_voxels, static_cast<int64_t>(both));
    EXPECT_DOUBLE_EQ(m.dice, 2 * both / 2000);
    EXPECT_DOUBLE_EQ(m.voe, 1 - both / (2000 - both));
    EXPECT_EQ(m.rvd, 0.0);
    const SurfaceDistances b = brute_distances(p, t, d, {1, 1, 1});
    EXPECT_NEAR(m.assd, b.assd, 1e-12);
    EXPECT_NEAR(m.mssd, b.mssd, 1e-12);
    EXPECT_EQ(m.mssd, static_cast<double>(shift));  // the far i face of each box to the other's near i face
  }
}

// P = [2,5]^3, T = P shifted by 2 along i (i in [4,7]). Each surface is the 64 voxels less the 2x2x2 core:
// 56 voxels. P's surface by i layer, to the nearest T-surface voxel (T's face i = 4 is all surface):
//   i = 2: full face, 16 voxels, distance 2 (to (4, j, k));
//   i = 3: the 12-voxel ring, distance 1 (to (4, j, k));
//   i = 4: the 12-voxel ring, all on T's i = 4 face: 0;
//   i = 5: full face: the 12 ring voxels lie on T's j or k faces: 0; the 4 core voxels (j, k in {3, 4})
//          are 1 from (4, j, k) and 1 from T's j or k face.
// Sum 16*2 + 12*1 + 4*1 = 48, max 2; T -> P mirrors it. ASSD = 96 / 112 = 6/7, MSSD = 2.
// Spacing (2, 0.5, 3): i = 2 -> 4, i = 3 -> 2, and the 4 core voxels at i = 5 are now nearer T's j face
// (one j step, 0.5) than its i = 4 face (2): sum 16*4 + 12*2 + 4*0.5 = 90, ASSD = 180 / 112 = 45/28,
// MSSD = 4: the offset along i scales the far-face distance by di = 2.
TEST(LitsMetrics, SmallBoxesOffsetAlongIHaveHandComputedDistances) {
  const MaskDims d{10, 8, 8};
  auto p = empty_mask(d), t = empty_mask(d);
  fill_box(p, d, {2, 2, 2}, {5, 5, 5});
  fill_box(t, d, {4, 2, 2}, {7, 5, 5});
  CaseMetrics m = case_metrics(p, t, d, {1, 1, 1});
  EXPECT_NEAR(m.assd, 6.0 / 7.0, 1e-12);
  EXPECT_EQ(m.mssd, 2.0);
  m = case_metrics(p, t, d, {2.0, 0.5, 3.0});
  EXPECT_NEAR(m.assd, 45.0 / 28.0, 1e-12);
  EXPECT_EQ(m.mssd, 4.0);
}

// The same boxes offset by 2 along k, spacing (2, 0.5, 3): k = 2 face 16 * 6, k = 3 ring 12 * 3, and the 4
// core voxels of the k = 5 face are one j step (0.5) from T's j face: sum 96 + 36 + 2 = 134 each way,
// ASSD = 268 / 112 = 67/28, MSSD = 2 * dk = 6.
TEST(LitsMetrics, SmallBoxesOffsetAlongKScaleByDk) {
  const MaskDims d{8, 8, 10};
  auto p = empty_mask(d), t = empty_mask(d);
  fill_box(p, d, {2, 2, 2}, {5, 5, 5});
  fill_box(t, d, {2, 2, 4}, {5, 5, 7});
  const CaseMetrics m = case_metrics(p, t, d, {2.0, 0.5, 3.0});
  EXPECT_NEAR(m.assd, 67.0 / 28.0, 1e-12);
  EXPECT_EQ(m.mssd, 6.0);
}

// One voxel each, 3 apart along j and 4 along k: sqrt(9 + 16) = 5 both ways. Two apart along i with
// di = 2 gives 4; two apart along k with dk = 3 gives 6.
TEST(LitsMetrics, SingleVoxelsAtThreeFourFive) {
  const MaskDims d{6, 7, 8};
  auto p = empty_mask(d), t = empty_mask(d);
  p[flat(d, 2, 1, 1)] = 1;
  t[flat(d, 2, 4, 5)] = 1;
  CaseMetrics m = case_metrics(p, t, d, {1, 1, 1});
  EXPECT_EQ(m.assd, 5.0);
  EXPECT_EQ(m.mssd, 5.0);
  EXPECT_EQ(m.dice, 0.0);
  EXPECT_EQ(m.voe, 1.0);

  t = empty_mask(d);
  t[flat(d, 4, 1, 1)] = 1;
  m = case_metrics(p, t, d, {2.0, 0.5, 3.0});
  EXPECT_EQ(m.assd, 4.0);
  EXPECT_EQ(m.mssd, 4.0);

  t = empty_mask(d);
  t[flat(d, 2, 1, 3)] = 1;
  m = case_metrics(p, t, d, {2.0, 0.5, 3.0});
  EXPECT_EQ(m.assd, 6.0);
  EXPECT_EQ(m.mssd, 6.0);
}

// Voxels outside the volume are background, so mask voxels on the border are surface.
TEST(LitsMetrics, BorderVoxelsAreSurface) {
  {
    // P fills a 3x3x3 volume: its surface is the 26 voxels around the centre (without the border rule it
    // would have none). T is the centre. P -> T: 6 face voxels at 1, 12 edge voxels at sqrt 2, 8 corners
    // at sqrt 3; T -> P: the centre is 1 from P's surface. ASSD = (7 + 12 sqrt 2 + 8 sqrt 3) / 27.
    const MaskDims d{3, 3, 3};
    std::vector<uint8_t> p(27, 1);
    auto t = empty_mask(d);
    t[flat(d, 1, 1, 1)] = 1;
    const CaseMetrics m = case_metrics(p, t, d, {1, 1, 1});
    EXPECT_NEAR(m.assd, (7 + 12 * std::sqrt(2.0) + 8 * std::sqrt(3.0)) / 27, 1e-12);
    EXPECT_NEAR(m.mssd, std::sqrt(3.0), 1e-12);
    EXPECT_DOUBLE_EQ(m.dice, 2.0 / 28);
    EXPECT_DOUBLE_EQ(m.voe, 1 - 1.0 / 27);
    EXPECT_EQ(m.rvd, 26.0);
  }
  {
    // A 4x1x1 volume: every voxel touches the j and k borders, so P (all four) is all surface.
    // P -> T (voxel 0): 0, 1, 2, 3 with di = 1.5 -> 0, 1.5, 3, 4.5; T -> P: 0. ASSD = 9 / 5, MSSD = 4.5.
    const MaskDims d{4, 1, 1};
    const std::vector<uint8_t> p = {1, 1, 1, 1}, t = {1, 0, 0, 0};
    const CaseMetrics m = case_metrics(p, t, d, {1.5, 1, 1});
    EXPECT_NEAR(m.assd, 9.0 / 5, 1e-12);
    EXPECT_EQ(m.mssd, 4.5);
    EXPECT_EQ(m.rvd, 3.0);
  }
}

TEST(LitsMetrics, EmptyMasksFollowTheConventions) {
  const MaskDims d{5, 4, 3};
  const auto none = empty_mask(d);
  auto some = empty_mask(d);
  fill_box(some, d, {1, 1, 1}, {2, 2, 1});

  CaseMetrics m = case_metrics(none, none, d, {1, 1, 1});
  EXPECT_EQ(m.dice, 1.0);
  EXPECT_EQ(m.voe, 0.0);
  EXPECT_TRUE(std::isnan(m.rvd));
  EXPECT_TRUE(std::isnan(m.assd));
  EXPECT_TRUE(std::isnan(m.mssd));

  m = case_metrics(none, some, d, {1, 1, 1});  // pred empty, truth not
  EXPECT_EQ(m.dice, 0.0);
  EXPECT_EQ(m.voe, 1.0);
  EXPECT_EQ(m.rvd, -1.0);
  EXPECT_TRUE(std::isnan(m.assd));
  EXPECT_TRUE(std::isnan(m.mssd));

  m = case_metrics(some, none, d, {1, 1, 1});  // truth empty, pred not
  EXPECT_EQ(m.pred_voxels, 4);
  EXPECT_EQ(m.dice, 0.0);
  EXPECT_EQ(m.voe, 1.0);
  EXPECT_TRUE(std::isnan(m.rvd));
  EXPECT_TRUE(std::isnan(m.assd));
  EXPECT_TRUE(std::isnan(m.mssd));
}

// Random ellipsoid blobs plus scattered voxels, in small volumes (flat ones included) with anisotropic
// spacing, against the brute-force surfaces and distances.
TEST(LitsMetrics, RandomBlobsMatchBruteForce) {
  std::mt19937 rng(20240611);
  const MaskDims shapes[] = {{7, 6, 5}, {7, 6, 5}, {5, 7, 6}, {1, 6, 5}, {7, 1, 5}, {8, 3, 1}, {9, 1, 1}};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto random_mask = [&](const MaskDims& d) {
    auto m = empty_mask(d);
    const int blobs = 1 + static_cast<int>(unit(rng) * 3);
    for (int b = 0; b < blobs; ++b) {
      const double c[3] = {unit(rng) * d.ni, unit(rng) * d.nj, unit(rng) * d.nk};
      const double r[3] = {0.5 + unit(rng) * 2.5, 0.5 + unit(rng) * 2.5, 0.5 + unit(rng) * 2.5};
      for (int64_t k = 0; k < d.nk; ++k)
        for (int64_t j = 0; j < d.nj; ++j)
          for (int64_t i = 0; i < d.ni; ++i) {
            const double e =
                std::pow((i - c[0]) / r[0], 2) + std::pow((j - c[1]) / r[1], 2) + std::pow((k - c[2]) / r[2], 2);
            if (e <= 1) m[flat(d, i, j, k)] = 1;
          }
    }
    for (uint8_t& v : m)
      if (unit(rng) < 0.04) v = 1;
    return m;
  };
  int compared = 0;
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE(trial);
    const MaskDims& d = shapes[trial % std::size(shapes)];
    const auto p = random_mask(d), t = random_mask(d);
    const std::array<double, 3> s = {0.25 + unit(rng) * 3, 0.25 + unit(rng) * 3, 0.25 + unit(rng) * 3};
    const CaseMetrics m = case_metrics(p, t, d, s);
    int64_t np = 0, nt = 0, nb = 0;
    for (size_t x = 0; x < p.size(); ++x) np += p[x], nt += t[x], nb += p[x] & t[x];
    ASSERT_EQ(m.pred_voxels, np);
    ASSERT_EQ(m.truth_voxels, nt);
    ASSERT_EQ(m.both_voxels, nb);
    if (np == 0 || nt == 0) {
      EXPECT_TRUE(std::isnan(m.assd));
      continue;
    }
    const SurfaceDistances b = brute_distances(p, t, d, s);
    ASSERT_NEAR(m.assd, b.assd, 1e-9);
    ASSERT_NEAR(m.mssd, b.mssd, 1e-9);
    ++compared;
  }
  EXPECT_GT(compared, 250);
}

// The distance field covers only the union's bounding box: the hand-computed boxes placed deep inside a
// CT-sized slab give the same answers, quickly.
TEST(LitsMetrics, CropInsideLargeVolumeKeepsAnswers) {
  const MaskDims d{512, 512, 60};
  auto p = empty_mask(d), t = empty_mask(d);
  fill_box(p, d, {300, 200, 30}, {303, 203, 33});
  fill_box(t, d, {302, 200, 30}, {305, 203, 33});
  const CaseMetrics m = case_metrics(p, t, d, {2.0, 0.5, 3.0});
  EXPECT_EQ(m.pred_voxels, 64);
  EXPECT_EQ(m.both_voxels, 32);
  EXPECT_DOUBLE_EQ(m.dice, 0.5);
  EXPECT_NEAR(m.assd, 45.0 / 28.0, 1e-12);
  EXPECT_EQ(m.mssd, 4.0);
}

TEST(LitsMetrics, BadInputNamesTheProblem) {
  const MaskDims d{4, 3, 2};
  const auto good = empty_mask(d);
  const std::vector<uint8_t> short_mask(23, 0);
  expect_contains(error_of([&] {
                    case_metrics(short_mask, good, d, {1, 1, 1});
                  }),
                  {"size mismatch", "pred has 23", "4 x 3 x 2", "need 24"});
  expect_contains(error_of([&] {
                    case_metrics(good, short_mask, d, {1, 1, 1});
                  }),
                  {"size mismatch", "truth has 23", "need 24"});
  expect_contains(error_of([&] { case_metrics(good, good, d, {1, 0, 1}); }), {"spacing dj = 0", "finite and > 0"});
  expect_contains(error_of([&] { case_metrics(good, good, d, {1, 1, -2.5}); }), {"spacing dk = -2.5"});
  expect_contains(error_of([&] { case_metrics(good, good, d, {NAN, 1, 1}); }), {"spacing di = nan"});
  expect_contains(error_of([&] { case_metrics(good, good, d, {INFINITY, 1, 1}); }), {"spacing di = inf"});
  expect_contains(error_of([&] {
                    case_metrics(good, good, MaskDims{4, 0, 2}, {1, 1, 1});
                  }),
                  {"dims must be positive", "4 x 0 x 2"});
  auto label = empty_mask(d);
  label[flat(d, 1, 2, 1)] = 2;  // a lesion label from a liver/lesion label map
  expect_contains(error_of([&] {
                    case_metrics(good, label, d, {1, 1, 1});
                  }),
                  {"truth voxel (i 1, j 2, k 1) is 2", "0/1"});
}

}  // namespace
}  // namespace lits::testing
