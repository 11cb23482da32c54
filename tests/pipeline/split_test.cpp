// The reference's volume split and per-slice rules: MT19937 against std::mt19937 (same init_genrand),
// NumPy legacy RandomState draws and shuffles against values computed with NumPy, the LiTS split of
// section 5.1, channel reflection, the lesion ROI window and the HU normalisation at its edges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>

#include "pipeline/data/split.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

TEST(LegacyRandomState, RawOutputsMatchStdMt19937) {
  // std::mt19937(seed) is specified as init_genrand, which is what NumPy's RandomState(int) uses.
  for (const uint32_t seed : {0u, 1u, 5489u, 0xffffffffu}) {
    LegacyRandomState rs(seed);
    std::mt19937 ref(seed);
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(rs.next_uint32(), ref()) << "seed " << seed << " draw " << i;
  }
  // The C++ standard's check value: the 10000th output for the default seed 5489.
  LegacyRandomState rs(5489);
  for (int i = 0; i < 9999; ++i) rs.next_uint32();
  EXPECT_EQ(rs.next_uint32(), 4123659995u);
}

TEST(LegacyRandomState, Next64PutsFirstDrawHigh) {
  LegacyRandomState a(9), b(9);
  const uint64_t hi = a.next_uint32(), lo = a.next_uint32();
  EXPECT_EQ(b.next_uint64(), (hi << 32) | lo);
}

TEST(LegacyRandomState, DrawsMatchNumpy) {
  // numpy.random.RandomState(1234), these calls in this order (NumPy 2.4.6, legacy path).
  LegacyRandomState rs(1234);
  for (const int64_t v : {17263407, 22928437, 978124}) EXPECT_EQ(rs.randint(0, 100000000), v);
  for (const int64_t v : {0, 0, 1, 1, 1}) EXPECT_EQ(rs.randint(2), v);
  EXPECT_EQ(rs.rand(), 0.2725926052826416);
  EXPECT_EQ(rs.rand(), 0.2764642551430967);
  for (const int64_t v : {6, 5, 1}) EXPECT_EQ(rs.randint(-5, 7), v);
  EXPECT_EQ(rs.randint(7, 8), 7);  // a one-value range draws nothing; the values after it show that
  for (const int64_t v : {697, 375, 623}) EXPECT_EQ(rs.randint(255, 767), v);
  EXPECT_EQ(rs.randint(0, int64_t{1} << 32), 2090933724);
  EXPECT_EQ(rs.randint(0, int64_t{1} << 40), 297774443856);  // 64-bit draws above 32-bit ranges
  EXPECT_EQ(rs.randint(-(int64_t{1} << 40), int64_t{1} << 33), -42527684098);
  EXPECT_EQ(rs.randint(INT64_MIN, INT64_MAX), 1128870439609013810);
  for (const int64_t v : {0, 5, 2}) EXPECT_EQ(rs.randint(0, 10), v);
}

TEST(LegacyRandomState, ShuffleMatchesNumpyIncludingDrawCounts) {
  // RandomState(7).shuffle(list(range(n))), then randint(0, 1000): shows how many draws the shuffle used.
  struct Case {
    std::vector<int> shuffled;
    int64_t next;
  };
  const Case cases[] = {
      {{}, 175}, {{0}, 175}, {{0, 1}, 196}, {{0, 3, 2, 1, 4}, 211}, {{8, 5, 0, 2, 1, 9, 7, 3, 6, 4}, 366}};
  for (const Case& c : cases) {
    std::vector<int> v(c.shuffled.size());
    std::iota(v.begin(), v.end(), 0);
    LegacyRandomState rs(7);
    rs.shuffle(v);
    EXPECT_EQ(v, c.shuffled) << "n = " << v.size();
    EXPECT_EQ(rs.randint(0, 1000), c.next) << "n = " << v.size();
  }
}

TEST(LegacyRandomState, BadArgumentsNameValues) {
  expect_contains(error_of([] { LegacyRandomState rs(-1); }), {"seed -1", "[0, 2^32 - 1]"});
  expect_contains(error_of([] { LegacyRandomState rs(int64_t{1} << 32); }), {"seed 4294967296"});
  LegacyRandomState rs(0);
  expect_contains(error_of([&] { rs.randint(5, 5); }), {"low 5", "high 5"});
  expect_contains(error_of([&] { rs.randint(0); }), {"low 0", "high 0"});
}

std::vector<int> lits_volumes() {
  std::vector<int> v(131);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(SplitVolumes, LitsSeedOneMatchesTheReference) {
  // Section 5.1: the full shuffled order of volume-0 .. volume-130 with seed 1 (NumPy legacy RandomState).
  const std::vector<int> order = {
      42,  80,  128, 5,   44,  75,  102, 110, 97, 17, 126, 31,  82,  59,  98, 56, 46, 116, 66,  4,   118, 40,
      85,  111, 54,  35,  45,  114, 33,  58,  12, 2,  73,  91,  121, 55,  93, 62, 89, 104, 48,  124, 53,  51,
      112, 67,  65,  122, 113, 115, 92,  10,  34, 32, 90,  38,  19,  130, 27, 36, 23, 39,  78,  100, 103, 69,
      74,  99,  120, 77,  127, 15,  41,  52,  26, 43, 24,  108, 83,  95,  49, 21, 70, 3,   123, 30,  129, 47,
      117, 88,  8,   81,  60,  0,   125, 57,  22, 61, 63,  7,   9,   13,  86, 96, 94, 105, 107, 87,  68,  119,
      14,  29,  28,  106, 11,  84,  18,  101, 20, 50, 25,  6,   109, 71,  76, 1,  16, 64,  79,  72,  37};
  ASSERT_EQ(order.size(), 131u);
  std::vector<int> shuffled = lits_volumes();
  LegacyRandomState(1).shuffle(shuffled);
  EXPECT_EQ(shuffled, order);

  const VolumeSplit s = split_volumes(lits_volumes(), 1, 1.0, 0.9);
  EXPECT_EQ(s.validation, (std::vector<int>{101, 20, 50, 25, 6, 109, 71, 76, 1, 16, 64, 79, 72, 37}));
  EXPECT_EQ(s.train, std::vector<int>(order.begin(), order.begin() + 117));
}

TEST(SplitVolumes, FractionsTruncateLikePythonInt) {
  // 100 * 0.29 = 28.999999999999996 in double, so int() gives 28 volumes used; int(28 * 0.9) = 25.
  // Expected lists from NumPy: RandomState(42).shuffle(list(range(100))), then the two slices.
  std::vector<int> v(100);
  std::iota(v.begin(), v.end(), 0);
  const VolumeSplit s = split_volumes(v, 42, 0.29, 0.9);
  EXPECT_EQ(s.train, (std::vector<int>{83, 53, 70, 45, 44, 39, 22, 80, 10, 0,  18, 30, 73,
                                       33, 90, 4,  76, 77, 12, 31, 55, 88, 26, 42, 69}));
  EXPECT_EQ(s.validation, (std::vector<int>{15, 40, 96}));
  // 131 * 0.5 = 65.5 -> 65 used; 65 * 0.8 = 52.
  const VolumeSplit h = split_volumes(lits_volumes(), 1, 0.5, 0.8);
  EXPECT_EQ(h.train.size(), 52u);
  EXPECT_EQ(h.validation.size(), 13u);
}

TEST(SplitVolumes, ShufflesPositionsOfSparseNumbers) {
  // NumPy: RandomState(2**32 - 1).shuffle([3, 8, 15, 22, 40, 41, 57]) -> [8, 41, 3, 57, 40, 15, 22].
  const VolumeSplit s = split_volumes({3, 8, 15, 22, 40, 41, 57}, 0xffffffffLL, 1.0, 1.0);
  EXPECT_EQ(s.train, (std::vector<int>{8, 41, 3, 57, 40, 15, 22}));
  EXPECT_TRUE(s.validation.empty());
}

TEST(SplitVolumes, BadArgumentsNameValues) {
  expect_contains(error_of([] { split_volumes({1, 5, 3}, 1, 1.0, 0.9); }), {"ascending", "5 before 3", "position 2"});
  expect_contains(error_of([] { split_volumes({1, 1}, 1, 1.0, 0.9); }), {"1 before 1"});
  expect_contains(error_of([] { split_volumes({1, 2}, 1, 0.0, 0.9); }), {"perc_data 0", "(0, 1]"});
  expect_contains(error_of([] { split_volumes({1, 2}, 1, 1.5, 0.9); }), {"perc_data 1.5"});
  expect_contains(error_of([] { split_volumes({1, 2}, 1, 1.0, -0.1); }), {"train_val_split -0.1", "[0, 1]"});
  expect_contains(error_of([] { split_volumes({1, 2}, 1, std::nan(""), 0.9); }), {"perc_data nan"});
  expect_contains(error_of([] { split_volumes({1, 2}, -3, 1.0, 0.9); }), {"seed -3"});
}

TEST(ChannelSlices, ReflectsWithoutRepeatingTheEdge) {
  using V = std::vector<int64_t>;
  const int64_t d = 10;
  // Section 5.1's examples.
  EXPECT_EQ(channel_slices(0, d, 3), (V{1, 0, 1}));
  EXPECT_EQ(channel_slices(d - 1, d, 3), (V{d - 2, d - 1, d - 2}));
  EXPECT_EQ(channel_slices(0, d, 5), (V{2, 1, 0, 1, 2}));
  EXPECT_EQ(channel_slices(1, d, 5), (V{1, 0, 1, 2, 3}));
  // The far edge: D -> D-2, D+1 -> D-3.
  EXPECT_EQ(channel_slices(d - 1, d, 5), (V{d - 3, d - 2, d - 1, d - 2, d - 3}));
  EXPECT_EQ(channel_slices(d - 2, d, 5), (V{d - 4, d - 3, d - 2, d - 1, d - 2}));
  // Inside, one channel, and the thinnest volume each width allows.
  EXPECT_EQ(channel_slices(4, d, 5), (V{2, 3, 4, 5, 6}));
  EXPECT_EQ(channel_slices(0, 1, 1), (V{0}));
  EXPECT_EQ(channel_slices(0, 2, 3), (V{1, 0, 1}));
  EXPECT_EQ(channel_slices(1, 2, 3), (V{0, 1, 0}));
  EXPECT_EQ(channel_slices(0, 3, 5), (V{2, 1, 0, 1, 2}));
  EXPECT_EQ(channel_slices(2, 3, 5), (V{0, 1, 2, 1, 0}));
}

TEST(ChannelSlices, BadArgumentsNameValues) {
  expect_contains(error_of([] { channel_slices(0, 10, 4); }), {"channels 4", "odd"});
  expect_contains(error_of([] { channel_slices(0, 10, 0); }), {"channels 0"});
  expect_contains(error_of([] { channel_slices(0, 10, -3); }), {"channels -3"});
  expect_contains(error_of([] { channel_slices(0, 2, 5); }), {"2 slices", "5 channels"});
  expect_contains(error_of([] { channel_slices(0, 1, 3); }), {"1 slices", "3 channels"});
  expect_contains(error_of([] { channel_slices(10, 10, 3); }), {"slice 10", "[0, 10)"});
  expect_contains(error_of([] { channel_slices(-1, 10, 3); }), {"slice -1"});
}

TEST(LesionRoiSlices, HalfOpenWindowAroundLiverSlices) {
  using V = std::vector<int64_t>;
  // One liver slice at 10 of 20, V = 4: the window [j-4, j+3] holds 10 for j in 7 .. 14 (asymmetric).
  std::vector<bool> one(20, false);
  one[10] = true;
  EXPECT_EQ(lesion_roi_slices(one, 4), (V{7, 8, 9, 10, 11, 12, 13, 14}));
  // V = 1: only the slice itself ([j-1, j] holds 10 for j = 10, 11).
  EXPECT_EQ(lesion_roi_slices(one, 1), (V{10, 11}));
  // Liver at the first slice: max(j-V, 0) clamps, so j = 0 .. 4 keep it.
  std::vector<bool> first(12, false);
  first[0] = true;
  EXPECT_EQ(lesion_roi_slices(first, 4), (V{0, 1, 2, 3, 4}));
  // Liver at the last slice: the window stops at the end, j = 8 .. 11 of 12.
  std::vector<bool> last(12, false);
  last[11] = true;
  EXPECT_EQ(lesion_roi_slices(last, 4), (V{8, 9, 10, 11}));
  // Two separated runs merge where windows overlap, and no liver keeps nothing.
  std::vector<bool> two(30, false);
  two[5] = two[6] = two[20] = true;
  EXPECT_EQ(lesion_roi_slices(two, 2), (V{4, 5, 6, 7, 8, 19, 20, 21, 22}));
  EXPECT_TRUE(lesion_roi_slices(std::vector<bool>(8, false), 4).empty());
  EXPECT_TRUE(lesion_roi_slices({}, 4).empty());
  // A vicinity wider than the volume keeps everything when any slice has liver.
  std::vector<bool> small(3, false);
  small[2] = true;
  EXPECT_EQ(lesion_roi_slices(small, 10), (V{0, 1, 2}));
}

TEST(LesionRoiSlices, BadVicinityNamesValue) {
  expect_contains(error_of([] { lesion_roi_slices({true}, 0); }), {"vicinity 0", ">= 1"});
  expect_contains(error_of([] { lesion_roi_slices({true}, -2); }), {"vicinity -2"});
}

TEST(HuNormalize, ClipsMapsAndStandardises) {
  EXPECT_EQ(hu_normalize(-1000, false), 0.0);
  EXPECT_EQ(hu_normalize(-100, false), 0.0);
  EXPECT_EQ(hu_normalize(400, false), 1.0);
  EXPECT_EQ(hu_normalize(3000, false), 1.0);
  EXPECT_EQ(hu_normalize(150, false), 0.5);
  EXPECT_EQ(hu_normalize(0, false), 0.2);
  EXPECT_EQ(hu_normalize(-99, false), 1.0 / 500.0);
  EXPECT_EQ(hu_normalize(-2000, true), (0.0 - 0.1021) / 0.19177);
  EXPECT_EQ(hu_normalize(400, true), (1.0 - 0.1021) / 0.19177);
  EXPECT_EQ(hu_normalize(150, true), (0.5 - 0.1021) / 0.19177);
  EXPECT_NEAR(hu_normalize(-100 + 0.1021 * 500, true), 0.0, 1e-12);  // the mean maps to 0
}

}  // namespace
}  // namespace lits::testing
