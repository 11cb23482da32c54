// Augmentation and crop: the composed source maps against scipy.ndimage's own results (rotate, zoom with the
// reference's paste/centre-crop, flips; expected arrays produced with scipy 1.10 on index ramps), the draw
// statistics, the crop window rules, and the sample streams.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "pipeline/data/augment.h"
#include "pipeline/data/sample_rng.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

std::vector<int32_t> source_map(int64_t h, int64_t w, double angle, double zoom, bool hflip, bool vflip) {
  AugmentDraw d;
  d.rotate = angle != 0.0;
  d.angle_deg = angle;
  d.zoom = zoom != 1.0;
  d.zoom_factor = zoom;
  d.hflip = hflip;
  d.vflip = vflip;
  return augment_source_map(h, w, d);
}

// ndimage.rotate(np.arange(63).reshape(7, 9), 25, reshape=False, order=0, mode='nearest')
TEST(Augment, RotationMatchesScipy) {
  const std::vector<int32_t> expect = {2,  3,  3,  4,  5,  15, 16, 26, 26,  //
                                       1,  2,  3,  13, 14, 24, 25, 26, 35,  //
                                       1,  11, 12, 22, 22, 32, 33, 34, 44,  //
                                       9,  19, 20, 30, 31, 32, 42, 43, 53,  //
                                       18, 28, 29, 30, 40, 40, 50, 51, 61,  //
                                       27, 36, 37, 38, 48, 49, 59, 60, 61,  //
                                       36, 36, 46, 47, 57, 58, 59, 59, 60};
  EXPECT_EQ(source_map(7, 9, 25.0, 1.0, false, false), expect);
}

// ndimage.zoom(A, 0.83, order=0, mode='nearest') is 7 x 7, pasted at (1, 1) on a canvas of A[8][8] = 80.
TEST(Augment, ZoomOutPastesCentredOnTheCornerValue) {
  const std::vector<int32_t> expect = {80, 80, 80, 80, 80, 80, 80, 80, 80,  //
                                       80, 0,  1,  3,  4,  5,  7,  8,  80,  //
                                       80, 9,  10, 12, 13, 14, 16, 17, 80,  //
                                       80, 27, 28, 30, 31, 32, 34, 35, 80,  //
                                       80, 36, 37, 39, 40, 41, 43, 44, 80,  //
                                       80, 45, 46, 48, 49, 50, 52, 53, 80,  //
                                       80, 63, 64, 66, 67, 68, 70, 71, 80,  //
                                       80, 72, 73, 75, 76, 77, 79, 80, 80,  //
                                       80, 80, 80, 80, 80, 80, 80, 80, 80};
  EXPECT_EQ(source_map(9, 9, 0.0, 0.83, false, false), expect);
}

// ndimage.zoom of an 8 x 10 ramp by 1.17 is 9 x 12, centre-cropped from (0, 1).
TEST(Augment, ZoomInCropsTheCentre) {
  const std::vector<int32_t> expect = {1,  2,  2,  3,  4,  5,  6,  7,  7,  8,   //
                                       11, 12, 12, 13, 14, 15, 16, 17, 17, 18,  //
                                       21, 22, 22, 23, 24, 25, 26, 27, 27, 28,  //
                                       31, 32, 32, 33, 34, 35, 36, 37, 37, 38,  //
                                       41, 42, 42, 43, 44, 45, 46, 47, 47, 48,  //
                                       41, 42, 42, 43, 44, 45, 46, 47, 47, 48,  //
                                       51, 52, 52, 53, 54, 55, 56, 57, 57, 58,  //
                                       61, 62, 62, 63, 64, 65, 66, 67, 67, 68};
  EXPECT_EQ(source_map(8, 10, 0.0, 1.17, false, false), expect);
}

// All four in the reference's order: rotate -8.5, zoom 0.9 (canvas = the rotated corner), hflip, vflip.
TEST(Augment, ChainMatchesScipyInTheReferencesOrder) {
  const std::vector<int32_t> expect = {35, 35, 35, 35, 35, 35,  //
                                       35, 35, 34, 33, 31, 30,  //
                                       35, 29, 28, 27, 25, 24,  //
                                       35, 23, 22, 21, 19, 18,  //
                                       35, 11, 10, 9,  7,  6,   //
                                       35, 5,  4,  3,  1,  0};
  EXPECT_EQ(source_map(6, 6, -8.5, 0.9, true, true), expect);
}

TEST(Augment, FlipsAndIdentity) {
  EXPECT_EQ(source_map(2, 3, 0.0, 1.0, false, false), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(source_map(2, 3, 0.0, 1.0, true, false), (std::vector<int32_t>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(source_map(2, 3, 0.0, 1.0, false, true), (std::vector<int32_t>{3, 4, 5, 0, 1, 2}));
  // A rotation by 0 degrees and a zoom by exactly 1 change nothing either.
  AugmentDraw d;
  d.rotate = d.zoom = true;
  EXPECT_EQ(augment_source_map(2, 3, d), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(Augment, AWindowOfTheMapIsTheFullMapsBlock) {
  AugmentDraw d;
  d.rotate = d.zoom = d.hflip = true;
  d.angle_deg = 7.3;
  d.zoom_factor = 0.87;
  const std::vector<int32_t> full = augment_source_map(40, 30, d);
  const std::vector<int32_t> win = augment_source_window(40, 30, d, 5, 9, 16, 12);
  ASSERT_EQ(win.size(), 16u * 12u);
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 12; ++j)
      EXPECT_EQ(win[static_cast<size_t>(i * 12 + j)], full[static_cast<size_t>((5 + i) * 30 + 9 + j)]);
  expect_contains(error_of([&] { augment_source_window(40, 30, d, 30, 0, 16, 12); }), {"window 16 x 12", "40 x 30"});
}

TEST(Augment, ModesParseAndRejectUnknownNames) {
  const AugmentModes m = parse_augment_modes({"rot", "zoom", "hflip", "vflip"});
  EXPECT_TRUE(m.rot && m.zoom && m.hflip && m.vflip);
  EXPECT_EQ(m.str(), "rot,zoom,hflip,vflip");
  EXPECT_EQ(parse_augment_modes({}).str(), "none");
  expect_contains(error_of([] { parse_augment_modes({"rot", "shear"}); }), {"'shear'", "'hflip'"});
}

TEST(Augment, DrawsEachTransformHalfTheTimeWithinItsRange) {
  const AugmentModes all = parse_augment_modes({"rot", "zoom", "hflip", "vflip"});
  const int n = 4000;
  int rot = 0, zoom = 0, hflip = 0, vflip = 0;
  double min_angle = 1e9, max_angle = -1e9, min_zoom = 1e9, max_zoom = -1e9;
  for (int i = 0; i < n; ++i) {
    SampleRng rng(7, RngStream::kSample, 3, i);
    const AugmentDraw d = draw_augment(all, rng);
    rot += d.rotate, zoom += d.zoom, hflip += d.hflip, vflip += d.vflip;
    if (d.rotate) min_angle = std::min(min_angle, d.angle_deg), max_angle = std::max(max_angle, d.angle_deg);
    if (d.zoom) min_zoom = std::min(min_zoom, d.zoom_factor), max_zoom = std::max(max_zoom, d.zoom_factor);
    // The same stream with only flips enabled flips identically: disabled modes do not shift the draws.
    SampleRng again(7, RngStream::kSample, 3, i);
    const AugmentDraw f = draw_augment(parse_augment_modes({"hflip", "vflip"}), again);
    EXPECT_FALSE(f.rotate || f.zoom);
    EXPECT_EQ(f.hflip, d.hflip);
    EXPECT_EQ(f.vflip, d.vflip);
  }
  for (int count : {rot, zoom, hflip, vflip}) {  // binomial(4000, 1/2): sd 32
    EXPECT_GT(count, n / 2 - 160);
    EXPECT_LT(count, n / 2 + 160);
  }
  EXPECT_GE(min_angle, -10.0);
  EXPECT_LT(max_angle, 10.0);
  EXPECT_LT(min_angle, -9.5);
  EXPECT_GT(max_angle, 9.5);
  EXPECT_GE(min_zoom, 0.825);
  EXPECT_LT(max_zoom, 1.175);
  EXPECT_LT(min_zoom, 0.84);
  EXPECT_GT(max_zoom, 1.16);
}

TEST(Augment, CropWindowClipsItsCentreAsTheReference) {
  // 512 pixels, crop 256: centres are clipped to [127, 383], windows are [c - 127, c + 128].
  EXPECT_EQ(crop_start(300, 512, 256), 173);
  EXPECT_EQ(crop_start(0, 512, 256), 0);
  EXPECT_EQ(crop_start(511, 512, 256), 256);
  EXPECT_EQ(crop_start(127, 256, 256), 0);  // a crop of the whole axis
  expect_contains(error_of([] { crop_start(10, 64, 65); }), {"65", "64", "even"});
  expect_contains(error_of([] { crop_start(10, 64, 31); }), {"31", "even"});
}

TEST(Augment, RandomCropReachesEveryWindowPosition) {
  std::set<int64_t> starts;
  for (int i = 0; i < 400; ++i) {
    SampleRng rng(1, RngStream::kSample, 0, i);
    starts.insert(crop_start(random_crop_centre(20, 16, rng), 20, 16));
  }
  EXPECT_EQ(starts, (std::set<int64_t>{0, 1, 2, 3, 4}));  // the reference's draw never reached 4
}

TEST(SampleStreams, DependOnlyOnTheirKey) {
  SampleRng a(5, RngStream::kSample, 2, 9), b(5, RngStream::kSample, 2, 9);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  const uint64_t base = SampleRng(5, RngStream::kSample, 2, 9).next_u64();
  EXPECT_NE(SampleRng(6, RngStream::kSample, 2, 9).next_u64(), base);
  EXPECT_NE(SampleRng(5, RngStream::kEpochOrder, 2, 9).next_u64(), base);
  EXPECT_NE(SampleRng(5, RngStream::kSample, 3, 9).next_u64(), base);
  EXPECT_NE(SampleRng(5, RngStream::kSample, 2, 10).next_u64(), base);
  // below(n) is uniform: 6000 draws of below(3) split evenly (sd 37 per bin).
  SampleRng r(1, RngStream::kSample, 0, 0);
  int bins[3] = {0, 0, 0};
  for (int i = 0; i < 6000; ++i) ++bins[r.below(3)];
  for (int c : bins) EXPECT_NEAR(c, 2000, 200);
  expect_contains(error_of([] { SampleRng(1, RngStream::kSample, -1, 0); }), {"epoch -1"});
}

}  // namespace
}  // namespace lits::testing
