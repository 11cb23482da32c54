// The reference's weightmaps: box morphology and the distance transform against brute force on random
// volumes (even boxes included), scipy's placement of an even box and its border value, the 2D script's
// 20 x 20 square worked by hand, the 0.65/0.35 mix, constant maps for empty masks, the 3D box sizes and
// maps, bad-input messages, and the float16 conversion over every half and every rounding boundary.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "pipeline/data/weightmap.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t flat(const VolumeDims& dims, int64_t z, int64_t r, int64_t c) { return (z * dims[1] + r) * dims[2] + c; }

std::vector<uint8_t> random_mask(const VolumeDims& dims, double p, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution set(p);
  std::vector<uint8_t> m(dims[0] * dims[1] * dims[2]);
  for (uint8_t& v : m) v = set(rng) ? 1 : 0;
  return m;
}

// Morphology straight from the definition: the box B covers offsets [-(s / 2), s - 1 - s / 2] per axis;
// erode(M) = {x : x + B inside the array and inside M}, dilate(M) = {m + b : m in M, b in B}.
std::vector<uint8_t> brute_morphology(const std::vector<uint8_t>& m, const VolumeDims& dims,
                                      const std::array<int, 3>& box, bool erode) {
  std::vector<uint8_t> out(m.size(), 0);
  for (int64_t z = 0; z < dims[0]; ++z)
    for (int64_t r = 0; r < dims[1]; ++r)
      for (int64_t c = 0; c < dims[2]; ++c) {
        bool all = true, any = false;
        for (int64_t oz = -(box[0] / 2); oz <= box[0] - 1 - box[0] / 2; ++oz)
          for (int64_t orow = -(box[1] / 2); orow <= box[1] - 1 - box[1] / 2; ++orow)
            for (int64_t oc = -(box[2] / 2); oc <= box[2] - 1 - box[2] / 2; ++oc) {
              if (erode) {
                const int64_t y0 = z + oz, y1 = r + orow, y2 = c + oc;
                const bool inside = y0 >= 0 && y0 < dims[0] && y1 >= 0 && y1 < dims[1] && y2 >= 0 && y2 < dims[2];
                if (!inside || !m[flat(dims, y0, y1, y2)]) all = false;
              } else {
                const int64_t y0 = z - oz, y1 = r - orow, y2 = c - oc;
                const bool inside = y0 >= 0 && y0 < dims[0] && y1 >= 0 && y1 < dims[1] && y2 >= 0 && y2 < dims[2];
                if (inside && m[flat(dims, y0, y1, y2)]) any = true;
              }
            }
        out[flat(dims, z, r, c)] = erode ? all : any;
      }
  return out;
}

std::vector<uint8_t> brute_band(const std::vector<uint8_t>& m, const VolumeDims& dims, const std::array<int, 3>& box) {
  const std::vector<uint8_t> dil = brute_morphology(m, dims, box, false), ero = brute_morphology(m, dims, box, true);
  std::vector<uint8_t> band(m.size());
  for (size_t i = 0; i < m.size(); ++i) band[i] = (dil[i] - m[i]) + (m[i] - ero[i]) > 0;
  return band;
}

// Distance to the nearest band element by trying them all; per slice when per_slice.
std::vector<double> brute_distance(const std::vector<uint8_t>& band, const VolumeDims& dims, bool per_slice) {
  std::vector<double> d(band.size());
  for (int64_t z = 0; z < dims[0]; ++z)
    for (int64_t r = 0; r < dims[1]; ++r)
      for (int64_t c = 0; c < dims[2]; ++c) {
        int64_t best = -1;
        for (int64_t z2 = 0; z2 < dims[0]; ++z2) {
          if (per_slice && z2 != z) continue;
          for (int64_t r2 = 0; r2 < dims[1]; ++r2)
            for (int64_t c2 = 0; c2 < dims[2]; ++c2) {
              if (!band[flat(dims, z2, r2, c2)]) continue;
              const int64_t sq = (z - z2) * (z - z2) + (r - r2) * (r - r2) + (c - c2) * (c - c2);
              if (best < 0 || sq < best) best = sq;
            }
        }
        d[flat(dims, z, r, c)] = best < 0 ? kInf : std::sqrt(static_cast<double>(best));
      }
  return d;
}

double formula(const WeightmapParams& p, double d, uint8_t m) {
  return p.a * std::max(std::exp(-p.beta * d), p.floor) + (1.0 - p.a) * m;
}

TEST(WeightmapParams, TwoDimensionalScript) {
  for (const WeightmapTarget t : {WeightmapTarget::kLiver, WeightmapTarget::kLesion}) {
    const WeightmapParams p = weightmap_params_2d(t);
    EXPECT_EQ(p.box, (std::array<int, 3>{1, 5, 5}));
    EXPECT_EQ(p.a, 0.75);
    EXPECT_EQ(p.beta, 0.02);
    EXPECT_NEAR(p.floor, 0.5773502691896258, 1e-15);
  }
}

TEST(WeightmapParams, ThreeDimensionalBoxSizesAndNumbers) {
  EXPECT_EQ(weightmap_box_size_3d(0.7), 7);
  EXPECT_EQ(weightmap_box_size_3d(0.8), 6);
  EXPECT_EQ(weightmap_box_size_3d(1.0), 5);
  EXPECT_EQ(weightmap_box_size_3d(2.5), 2);
  EXPECT_EQ(weightmap_box_size_3d(5.0), 2);  // 5 / 5 = 1, raised to the minimum 2
  EXPECT_EQ(weightmap_box_size_3d(0.703125), 7);
  const WeightmapParams liver = weightmap_params_3d(WeightmapTarget::kLiver, {2.5, 0.7, 0.8});
  EXPECT_EQ(liver.box, (std::array<int, 3>{2, 7, 6}));  // ordered as the spacings: slices, rows, columns
  EXPECT_EQ(liver.a, 0.6);
  EXPECT_EQ(liver.beta, 0.1);
  EXPECT_EQ(liver.floor, 0.3);
  const WeightmapParams lesion = weightmap_params_3d(WeightmapTarget::kLesion, {1.0, 1.0, 5.0});
  EXPECT_EQ(lesion.box, (std::array<int, 3>{5, 5, 2}));
  EXPECT_EQ(lesion.a, 0.75);
  EXPECT_EQ(lesion.beta, 0.09);
  EXPECT_EQ(lesion.floor, 0.5);
}

TEST(BoxMorphology, EvenBoxIsPlacedAsScipy) {
  // A box of 6 has its centre at element 3: offsets [-3, 2]. A single point dilates to [x - 3, x + 2]...
  const VolumeDims dims{1, 1, 15};
  std::vector<uint8_t> point(15, 0);
  point[7] = 1;
  const std::vector<uint8_t> dilated = box_dilate(point, dims, {1, 1, 6});
  EXPECT_EQ(dilated, (std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  // ...and erosion keeps x only when [x - 3, x + 2] is inside the mask: [3, 11] -> [6, 9].
  std::vector<uint8_t> run(15, 0);
  for (int i = 3; i <= 11; ++i) run[i] = 1;
  EXPECT_EQ(box_erode(run, dims, {1, 1, 6}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  // Odd boxes stay symmetric: 5 -> [x - 2, x + 2].
  EXPECT_EQ(box_dilate(point, dims, {1, 1, 5}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(box_erode(run, dims, {1, 1, 5}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  // The same along the slice axis.
  EXPECT_EQ(box_dilate(point, VolumeDims{15, 1, 1}, {6, 1, 1}), dilated);
}

TEST(BoxMorphology, BorderCountsAsZero) {
  const VolumeDims dims{1, 1, 8};
  const std::vector<uint8_t> ones(8, 1);
  EXPECT_EQ(box_erode(ones, dims, {1, 1, 5}), (std::vector<uint8_t>{0, 0, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(box_erode(ones, dims, {1, 1, 6}), (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 0, 0}));
  EXPECT_EQ(box_dilate(ones, dims, {1, 1, 6}), ones);
  // A box longer than the line erodes everything.
  EXPECT_EQ(box_erode(ones, dims, {1, 1, 9}), std::vector<uint8_t>(8, 0));
  // A full slice keeps a band at its edges: two pixels deep for the 5 x 5 box.
  const VolumeDims slice{1, 9, 9};
  const std::vector<uint8_t> band = boundary_band(std::vector<uint8_t>(81, 1), slice, {1, 5, 5});
  for (int64_t r = 0; r < 9; ++r)
    for (int64_t c = 0; c < 9; ++c) {
      const bool edge = r < 2 || r > 6 || c < 2 || c > 6;
      EXPECT_EQ(band[flat(slice, 0, r, c)], edge ? 1 : 0) << r << "," << c;
    }
}

TEST(BoxMorphology, MatchesBruteForceOnRandomVolumes) {
  const VolumeDims dims{5, 9, 11};
  const std::vector<std::array<int, 3>> boxes{{1, 1, 1}, {1, 5, 5}, {2, 2, 2},   {3, 4, 6},
                                              {6, 3, 2}, {5, 7, 1}, {4, 10, 12}, {7, 6, 5}};
  uint32_t seed = 1;
  for (const double p : {0.1, 0.5, 0.85}) {
    for (const auto& box : boxes) {
      const std::vector<uint8_t> m = random_mask(dims, p, seed++);
      const std::string what = "box " + std::to_string(box[0]) + "x" + std::to_string(box[1]) + "x" +
                               std::to_string(box[2]) + " p " + std::to_string(p);
      EXPECT_EQ(box_dilate(m, dims, box), brute_morphology(m, dims, box, false)) << what;
      EXPECT_EQ(box_erode(m, dims, box), brute_morphology(m, dims, box, true)) << what;
      EXPECT_EQ(boundary_band(m, dims, box), brute_band(m, dims, box)) << what;
    }
  }
}

TEST(DistanceToBand, MatchesBruteForceExactly) {
  uint32_t seed = 100;
  for (const VolumeDims& dims :
       {VolumeDims{4, 9, 11}, VolumeDims{6, 7, 5}, VolumeDims{1, 16, 13}, VolumeDims{9, 1, 3}}) {
    for (const double p : {0.004, 0.03, 0.2, 0.7}) {
      std::vector<uint8_t> band = random_mask(dims, p, seed++);
      // An empty slice checks the per-slice "nothing to reach" case.
      for (int64_t i = 0; i < dims[1] * dims[2]; ++i) band[i] = 0;
      for (const WeightmapMode mode : {WeightmapMode::k2d, WeightmapMode::k3d}) {
        const bool per_slice = mode == WeightmapMode::k2d;
        const std::vector<double> got = distance_to_band(band, dims, mode);
        const std::vector<double> want = brute_distance(band, dims, per_slice);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i], want[i]) << "element " << i << " p " << p << (per_slice ? " 2D" : " 3D") << " dims "
                                     << dims[0] << "x" << dims[1] << "x" << dims[2];
        }
      }
    }
  }
}

TEST(DistanceToBand, EmptyBandIsInfinityEverywhere) {
  const VolumeDims dims{3, 6, 7};
  const std::vector<uint8_t> none(3 * 6 * 7, 0);
  for (const WeightmapMode mode : {WeightmapMode::k2d, WeightmapMode::k3d}) {
    for (const double d : distance_to_band(none, dims, mode)) EXPECT_EQ(d, kInf);
  }
}

// The 2D script's example: a 20 x 20 square (rows and columns 54..73) in a 128 x 128 slice, W_M before
// any mixing. The 5 x 5 box makes the band rows/columns 52..75 minus the interior 56..71.
TEST(Weightmap2d, SquareMaskByHand) {
  const VolumeDims dims{1, 128, 128};
  std::vector<uint8_t> m(128 * 128, 0);
  for (int r = 54; r <= 73; ++r)
    for (int c = 54; c <= 73; ++c) m[flat(dims, 0, r, c)] = 1;
  const WeightmapParams p = weightmap_params_2d(WeightmapTarget::kLiver);
  const std::vector<uint8_t> band = boundary_band(m, dims, p.box);
  const std::vector<float> w = mask_weightmap(m, dims, p, WeightmapMode::k2d);
  const auto at = [&](int r, int c) { return w[flat(dims, 0, r, c)]; };
  const auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  for (int r = 0; r < 128; ++r)
    for (int c = 0; c < 128; ++c) {
      const bool b = in(r, 52, 75) && in(c, 52, 75) && !(in(r, 56, 71) && in(c, 56, 71));
      ASSERT_EQ(band[flat(dims, 0, r, c)], b ? 1 : 0) << r << "," << c;  // 2 px outside + 2 px inside
      // Distance by hand: outside the band's outer square, to that square; inside its hole, to the hole's edge.
      double d = 0.0;
      if (in(r, 56, 71) && in(c, 56, 71)) {
        d = std::min({r - 55, 72 - r, c - 55, 72 - c});
      } else if (!b) {
        const int dr = r < 52 ? 52 - r : r > 75 ? r - 75 : 0, dc = c < 52 ? 52 - c : c > 75 ? c - 75 : 0;
        d = std::sqrt(dr * dr + dc * dc);
      }
      ASSERT_NEAR(at(r, c), formula(p, d, m[flat(dims, 0, r, c)]), 1e-6) << r << "," << c;
    }
  EXPECT_FLOAT_EQ(at(53, 64), 0.75f);         // band, outside the mask
  EXPECT_FLOAT_EQ(at(52, 60), 0.75f);         // outer edge of the band
  EXPECT_FLOAT_EQ(at(54, 64), 1.0f);          // band, inside the mask
  EXPECT_FLOAT_EQ(at(55, 70), 1.0f);          // inner edge of the band
  EXPECT_NEAR(at(56, 64), 0.98514900, 1e-6);  // 1 px past the band: 0.25 + 0.75 exp(-0.02)
  EXPECT_NEAR(at(64, 76), 0.75 * std::exp(-0.02), 1e-6);
  EXPECT_NEAR(at(64, 102), 0.43706119, 1e-6);  // d = 27: still above the floor
  EXPECT_NEAR(at(64, 103), 0.43301270, 1e-6);  // d = 28 > 27.47: the floor 0.75 / sqrt(3)
  EXPECT_NEAR(at(0, 0), 0.43301270, 1e-6);
}

TEST(Weightmap2d, LiverMapMixesLiverAndLesion) {
  // Liver rows/columns 10..49, lesion 26..33 inside it.
  const VolumeDims dims{1, 64, 64};
  std::vector<uint8_t> labels(64 * 64, 0);
  for (int r = 10; r <= 49; ++r)
    for (int c = 10; c <= 49; ++c) labels[flat(dims, 0, r, c)] = (r >= 26 && r <= 33 && c >= 26 && c <= 33) ? 2 : 1;
  const Weightmaps w = compute_weightmaps(labels, dims, {1.0, 1.0, 1.0}, WeightmapMode::k2d);
  // (26, 26): lesion band inside the lesion (W_lesion = 1); 15 px inside the liver band (which ends at 11).
  EXPECT_NEAR(w.lesion[flat(dims, 0, 26, 26)], 1.0, 1e-6);
  EXPECT_NEAR(w.liver[flat(dims, 0, 26, 26)], 0.65 * (0.25 + 0.75 * std::exp(-0.3)) + 0.35, 1e-6);
  EXPECT_NEAR(w.liver[flat(dims, 0, 26, 26)], 0.87364888, 1e-6);
  // (5, 30): 3 px outside the liver band (row 8), 19 px from the lesion band (row 24).
  EXPECT_NEAR(w.lesion[flat(dims, 0, 5, 30)], 0.51289606, 1e-6);
  EXPECT_NEAR(w.liver[flat(dims, 0, 5, 30)], 0.63862383, 1e-6);
  // Everywhere: the liver map is the mix of the two single-mask maps, the lesion map the lesion's.
  std::vector<uint8_t> liver(labels.size()), lesion(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    liver[i] = labels[i] >= 1;
    lesion[i] = labels[i] == 2;
  }
  const std::vector<float> wl =
      mask_weightmap(liver, dims, weightmap_params_2d(WeightmapTarget::kLiver), WeightmapMode::k2d);
  const std::vector<float> ws =
      mask_weightmap(lesion, dims, weightmap_params_2d(WeightmapTarget::kLesion), WeightmapMode::k2d);
  for (size_t i = 0; i < labels.size(); ++i) {
    ASSERT_NEAR(w.liver[i], 0.65 * wl[i] + 0.35 * ws[i], 1e-6) << i;
    ASSERT_EQ(w.lesion[i], ws[i]) << i;
  }
}

TEST(Weightmap2d, EmptyLesionIsTheConstantFloor) {
  // Liver only in slice 1, lesion nowhere: every lesion value is 0.75 / sqrt(3), the corner included (no
  // scipy artefact), and so is every liver value of the liver-free slices 0 and 2.
  const VolumeDims dims{3, 40, 40};
  std::vector<uint8_t> labels(3 * 40 * 40, 0);
  for (int r = 15; r < 25; ++r)
    for (int c = 15; c < 25; ++c) labels[flat(dims, 1, r, c)] = 1;
  const Weightmaps w = compute_weightmaps(labels, dims, {0.0, 0.0, 0.0}, WeightmapMode::k2d);  // spacing unused
  const float floor2d = static_cast<float>(0.75 / std::sqrt(3.0));
  for (const float v : w.lesion) ASSERT_EQ(v, floor2d);
  for (const int64_t z : {0, 2}) {
    for (int64_t i = 0; i < 40 * 40; ++i) ASSERT_NEAR(w.liver[z * 1600 + i], floor2d, 1e-6) << z << " " << i;
  }
  // The slice's corner is sqrt(13^2 + 13^2) from the liver band's corner (13, 13).
  EXPECT_NEAR(w.liver[flat(dims, 1, 0, 0)], 0.65 * 0.75 * std::exp(-0.02 * std::sqrt(338.0)) + 0.35 * floor2d, 1e-6);
  EXPECT_NEAR(w.liver[flat(dims, 1, 14, 20)], 0.65 * 0.75 + 0.35 * floor2d, 1e-6);  // liver band
}

TEST(Weightmap3d, EmptyMasksAreTheConstantFloor) {
  const VolumeDims dims{6, 20, 20};
  const std::vector<uint8_t> labels(6 * 20 * 20, 0);
  const Weightmaps w = compute_weightmaps(labels, dims, {2.5, 0.8, 0.8}, WeightmapMode::k3d);
  for (size_t i = 0; i < labels.size(); ++i) {
    ASSERT_NEAR(w.lesion[i], 0.375, 1e-7) << i;                           // 0.75 * 0.5
    ASSERT_NEAR(w.liver[i], 0.65 * 0.6 * 0.3 + 0.35 * 0.375, 1e-7) << i;  // 0.24825
  }
}

TEST(Weightmap3d, CubeByHand) {
  // An 8-voxel cube (6..13 on every axis) of liver at 1 mm: box 5, band [4, 15]^3 minus [8, 11]^3.
  const VolumeDims dims{20, 20, 20};
  std::vector<uint8_t> labels(8000, 0);
  for (int z = 6; z <= 13; ++z)
    for (int r = 6; r <= 13; ++r)
      for (int c = 6; c <= 13; ++c) labels[flat(dims, z, r, c)] = 1;
  const Weightmaps w = compute_weightmaps(labels, dims, {1.0, 1.0, 1.0}, WeightmapMode::k3d);
  const double lesion_floor = 0.375;
  EXPECT_NEAR(w.liver[flat(dims, 9, 9, 9)], 0.65 * (0.4 + 0.6 * std::exp(-0.2)) + 0.35 * lesion_floor, 1e-6);
  EXPECT_NEAR(w.liver[flat(dims, 9, 9, 9)], 0.71055499, 1e-6);                        // 2 voxels past the band
  EXPECT_NEAR(w.liver[flat(dims, 9, 9, 0)], 0.65 * 0.40219203 + 0.35 * 0.375, 1e-6);  // 4 voxels outside
  EXPECT_NEAR(w.liver[flat(dims, 4, 9, 9)], 0.65 * 0.6 + 0.35 * 0.375, 1e-6);         // band, outside
  EXPECT_NEAR(w.liver[flat(dims, 7, 9, 9)], 0.65 * 1.0 + 0.35 * 0.375, 1e-6);         // band, inside
  // The corner is sqrt(48) from (4, 4, 4).
  EXPECT_NEAR(w.liver[0], 0.65 * 0.6 * std::exp(-0.1 * std::sqrt(48.0)) + 0.35 * 0.375, 1e-6);
}

TEST(Weightmap3d, CrossesSlicesWhere2dDoesNot) {
  // A lesion in slice 1 only: the 2D maps of slices 0 and 2 are the floor, while the 3D box (5 at 1 mm)
  // puts slices 0 and 2 above and below it in the band.
  const VolumeDims dims{3, 32, 32};
  std::vector<uint8_t> labels(3 * 32 * 32, 0);
  for (int r = 12; r < 20; ++r)
    for (int c = 12; c < 20; ++c) labels[flat(dims, 1, r, c)] = 2;
  const Weightmaps w2 = compute_weightmaps(labels, dims, {1.0, 1.0, 1.0}, WeightmapMode::k2d);
  const Weightmaps w3 = compute_weightmaps(labels, dims, {1.0, 1.0, 1.0}, WeightmapMode::k3d);
  EXPECT_NEAR(w2.lesion[flat(dims, 0, 15, 15)], 0.75 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(w2.lesion[flat(dims, 2, 15, 15)], 0.75 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(w3.lesion[flat(dims, 0, 15, 15)], 0.75, 1e-6);
  EXPECT_NEAR(w3.lesion[flat(dims, 2, 15, 15)], 0.75, 1e-6);
  EXPECT_NEAR(w3.lesion[flat(dims, 1, 15, 15)], 1.0, 1e-6);  // everything inside is eroded away in z
}

TEST(Weightmap3d, MatchesBruteForceWithEvenBoxes) {
  // Spacings (2.5, 0.8, 1.1) mm give boxes (2, 6, 4): asymmetric on two axes.
  const VolumeDims dims{5, 14, 12};
  const std::array<double, 3> spacing{2.5, 0.8, 1.1};
  std::vector<uint8_t> labels(5 * 14 * 12, 0);
  std::mt19937 rng(7);
  for (int64_t z = 1; z < 4; ++z)
    for (int64_t r = 2; r < 12; ++r)
      for (int64_t c = 3; c < 11; ++c) labels[flat(dims, z, r, c)] = rng() % 4 == 0 ? 2 : 1;
  const Weightmaps w = compute_weightmaps(labels, dims, spacing, WeightmapMode::k3d);
  const WeightmapParams pl = weightmap_params_3d(WeightmapTarget::kLiver, spacing);
  const WeightmapParams ps = weightmap_params_3d(WeightmapTarget::kLesion, spacing);
  ASSERT_EQ(pl.box, (std::array<int, 3>{2, 6, 4}));
  std::vector<uint8_t> liver(labels.size()), lesion(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    liver[i] = labels[i] >= 1;
    lesion[i] = labels[i] == 2;
  }
  const std::vector<double> dl = brute_distance(brute_band(liver, dims, pl.box), dims, false);
  const std::vector<double> ds = brute_distance(brute_band(lesion, dims, ps.box), dims, false);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double ws = formula(ps, ds[i], lesion[i]);
    ASSERT_NEAR(w.lesion[i], ws, 1e-6) << i;
    ASSERT_NEAR(w.liver[i], 0.65 * formula(pl, dl[i], liver[i]) + 0.35 * ws, 1e-6) << i;
  }
}

TEST(Weightmap, LongLinesUseExactStorage) {
  // 4000 columns keep squared distances below 2^24 (float storage); 5000 go past it (double storage).
  // Both must give the formula's values at distances of thousands of pixels. Without a floor and with
  // a = 1 the map is exp(-beta d) itself, so a squared distance rounded to float (4977^2 is odd and above
  // 2^24) would move d by 1e-4 and the value by 1e-6 relative: ten times the tolerance.
  for (const int64_t n : {4000, 5000}) {
    const VolumeDims dims{1, 1, n};
    std::vector<uint8_t> m(n, 0);
    for (int64_t c = 10; c < 20; ++c) m[c] = 1;
    WeightmapParams p = weightmap_params_2d(WeightmapTarget::kLiver);
    p.a = 1.0;
    p.beta = 0.01;
    p.floor = 0.0;
    const std::vector<float> w = mask_weightmap(m, dims, p, WeightmapMode::k2d);
    // Band: columns 8..21 (box 5 on the columns only), so column c > 21 is c - 21 away.
    for (const int64_t c : {int64_t{22}, int64_t{1000}, n - 2, n - 1}) {
      const double want = std::exp(-0.01 * static_cast<double>(c - 21));
      EXPECT_NEAR(w[c] / want, 1.0, 1e-7) << n << " " << c;
    }
    const std::vector<double> d = distance_to_band(boundary_band(m, dims, p.box), dims, WeightmapMode::k3d);
    EXPECT_EQ(d[n - 2], static_cast<double>(n - 2 - 21));
  }
}

TEST(WeightmapErrors, BadLabelNamesValueAndPosition) {
  const VolumeDims dims{2, 3, 5};
  std::vector<uint8_t> labels(30, 1);
  labels[flat(dims, 1, 2, 4)] = 3;
  const std::string m = error_of([&] { compute_weightmaps(labels, dims, {1, 1, 1}, WeightmapMode::k2d); });
  expect_contains(m, {"label 3", "slice 1, row 2, column 4", "index 29", "0 (background), 1 (liver) or 2 (lesion)"});
}

TEST(WeightmapErrors, DimsMismatch) {
  const std::vector<uint8_t> labels(29, 0);
  const std::string m = error_of([&] { compute_weightmaps(labels, {2, 3, 5}, {1, 1, 1}, WeightmapMode::k3d); });
  expect_contains(m, {"29 elements", "[2, 3, 5]", "need 30"});
  expect_contains(error_of([&] { box_dilate(labels, {29, 1, 0}, {1, 1, 1}); }), {"[29, 1, 0]", ">= 1"});
}

TEST(WeightmapErrors, BadSpacing) {
  const std::vector<uint8_t> labels(8, 0);
  expect_contains(error_of([&] {
                    compute_weightmaps(labels, {2, 2, 2}, {1.0, 0.0, 1.0}, WeightmapMode::k3d);
                  }),
                  {"spacing 0 mm", "positive"});
  expect_contains(error_of([&] {
                    compute_weightmaps(labels, {2, 2, 2}, {-1.0, 1.0, 1.0}, WeightmapMode::k3d);
                  }),
                  {"spacing -1 mm"});
  expect_contains(error_of([] { weightmap_box_size_3d(std::nan("")); }), {"spacing nan"});
  expect_contains(error_of([] { weightmap_box_size_3d(1e-9); }), {"1e-09", "plausible"});
}

TEST(WeightmapErrors, BadMaskBoxAndParams) {
  const VolumeDims dims{1, 2, 3};
  std::vector<uint8_t> mask(6, 0);
  mask[4] = 2;
  expect_contains(error_of([&] {
                    box_erode(mask, dims, {1, 3, 3});
                  }),
                  {"value 2", "slice 0, row 1, column 1", "only 0 and 1"});
  mask[4] = 1;
  expect_contains(error_of([&] { box_dilate(mask, dims, {1, 0, 3}); }), {"box sizes [1, 0, 3]"});
  WeightmapParams p = weightmap_params_2d(WeightmapTarget::kLesion);
  p.box[0] = 3;
  expect_contains(error_of([&] { mask_weightmap(mask, dims, p, WeightmapMode::k2d); }), {"box[0] == 1", "[3, 5, 5]"});
  EXPECT_EQ(error_of([&] { mask_weightmap(mask, dims, p, WeightmapMode::k3d); }), "no error");
  p.beta = 0.0;
  expect_contains(error_of([&] { mask_weightmap(mask, dims, p, WeightmapMode::k3d); }), {"beta 0"});
}

// The value of a binary16 bit pattern from its fields (NaN for NaNs).
double half_value(uint32_t h) {
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  const int e = static_cast<int>((h >> 10) & 0x1fu);
  const int m = static_cast<int>(h & 0x3ffu);
  if (e == 31) return m == 0 ? sign * kInf : std::nan("");
  if (e == 0) return sign * std::ldexp(m, -24);
  return sign * std::ldexp(1024 + m, e - 25);
}

TEST(Float16, HalfToFloatEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    const double want = half_value(h);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), want) << h;
    }
    ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << h;
  }
}

TEST(Float16, FloatToHalfRoundTripsEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = float_to_half(half_to_float(static_cast<uint16_t>(h)));
    if (std::isnan(half_value(h))) {
      ASSERT_EQ(back & 0xfc00u, h & 0xfc00u) << h;  // sign and all-ones exponent kept
      ASSERT_NE(back & 0x3ffu, 0u) << h;            // still a NaN
    } else {
      ASSERT_EQ(back, h) << h;
    }
  }
}

TEST(Float16, RoundsToNearestEvenAtEveryBoundary) {
  // Between each pair of neighbouring halfs (65504 and the would-be 65536 last), the midpoint goes to the
  // even one and one float step either side goes to the nearer one. Midpoints need 12 significant bits,
  // so they are exact floats.
  for (uint32_t h = 0; h < 0x7c00u; ++h) {
    const double lo = half_value(h), hi = h + 1 == 0x7c00u ? 65536.0 : half_value(h + 1);
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    for (const uint32_t sign : {0u, 0x8000u}) {
      const float s = sign ? -1.0f : 1.0f;
      ASSERT_EQ(float_to_half(s * mid), sign | ((h & 1u) ? h + 1 : h)) << h;
      ASSERT_EQ(float_to_half(s * std::nextafter(mid, 0.0f)), sign | h) << h;
      ASSERT_EQ(float_to_half(s * std::nextafter(mid, 1e30f)), sign | (h + 1)) << h;
    }
  }
  EXPECT_EQ(float_to_half(65519.996f), 0x7bffu);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00u);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::max()), 0x7c00u);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xfc00u);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000u);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000u);
  EXPECT_EQ(float_to_half(0.43301270f), 0x36eeu);  // the 2D floor as the store writes it
}

TEST(Float16, FloatToHalfMatchesNearestOnASweep) {
  // Every 4099th float bit pattern against the nearest half found by bisection on half_value.
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 4099) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(f)) continue;
    const double a = std::fabs(static_cast<double>(f));
    uint32_t lo = 0, hi = 0x7c00u;  // largest h in [lo, hi) with value <= a, where value(0x7c00) = 65536
    const auto value = [](uint32_t h) { return h == 0x7c00u ? 65536.0 : half_value(h); };
    if (a >= 65536.0) {
      lo = 0x7c00u;
    } else {
      while (hi - lo > 1) {
        const uint32_t mid = (lo + hi) / 2;
        (value(mid) <= a ? lo : hi) = mid;
      }
    }
    uint32_t want = lo;
    if (lo < 0x7c00u) {
      const double down = a - value(lo), up = value(lo + 1) - a;
      if (up < down || (up == down && (lo & 1u))) want = lo + 1;
    }
    if (std::signbit(f)) want |= 0x8000u;
    ASSERT_EQ(float_to_half(f), want) << f;
  }
}

}  // namespace
}  // namespace lits::testing
