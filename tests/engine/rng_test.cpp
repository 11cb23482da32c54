// Philox: the Random123 known-answer vectors, and the properties of the initialisers.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "kernels/philox.h"

namespace lits::testing {
namespace {

TEST(Philox, KnownAnswerVectors) {
  using kernels::Philox4;
  struct Kat {
    Philox4 ctr;
    uint32_t k0, k1;
    Philox4 expect;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
       0xffffffffu,
       0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
       0xa4093822u,
       0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Kat& k : kats) {
    const Philox4 r = kernels::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.expect.v[i]) << "word " << i;
  }
}

TEST(Rng, SameStateSameNumbersAndOffsetsAdvance) {
  Generator a(5), b(5);
  const std::vector<double> x = uniform({100}, 0, 1, a).to_vector();
  EXPECT_EQ(a.offset(), 100u);
  EXPECT_EQ(x, uniform({100}, 0, 1, b).to_vector());
  EXPECT_NE(x, uniform({100}, 0, 1, b).to_vector()) << "the next draw continues the stream";
  // A draw of 100 then 50 equals the tail of a draw of 150.
  Generator c(5);
  const std::vector<double> all = uniform({150}, 0, 1, c).to_vector();
  Generator d(5);
  d.reserve(100);
  const std::vector<double> tail = uniform({50}, 0, 1, d).to_vector();
  EXPECT_EQ(std::vector<double>(all.begin() + 100, all.end()), tail);
}

TEST(Rng, UniformRangeAndMoments) {
  Generator g(1);
  const std::vector<double> x = uniform({200000}, -2.0, 4.0, g, DType::kFloat64).to_vector();
  double m = 0, lo = 1e9, hi = -1e9;
  for (double e : x) {
    m += e;
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  m /= x.size();
  EXPECT_GE(lo, -2.0);
  EXPECT_LT(hi, 4.0);
  EXPECT_NEAR(m, 1.0, 0.02);
}

TEST(Rng, NormalMoments) {
  Generator g(2);
  const std::vector<double> x = normal({200000}, 1.0, 3.0, g).to_vector();
  double m = 0, s = 0;
  for (double e : x) m += e;
  m /= x.size();
  for (double e : x) s += (e - m) * (e - m);
  s = std::sqrt(s / x.size());
  EXPECT_NEAR(m, 1.0, 0.03);
  EXPECT_NEAR(s, 3.0, 0.03);
}

}  // namespace
}  // namespace lits::testing
