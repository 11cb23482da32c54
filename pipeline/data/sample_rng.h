// Random streams of the dataset: every draw is Philox4x32-10 of a counter made of (stream, epoch, index,
// draw number) under the run's seed, so a sample's augmentation and crop depend only on (seed, epoch,
// sample position) and never on the thread, the worker or the rank that makes it (this replaces the
// reference's per-worker RandomState copies, whose seeds repeat across workers and epochs).
#pragma once

#include <cstdint>

#include "engine/error.h"
#include "kernels/philox.h"

namespace lits {

// Independent purposes never share counters.
enum class RngStream : uint32_t {
  kSample = 1,      // augmentation and crop of the sample at `index` of the epoch
  kEpochOrder = 2,  // the epoch's permutation of sample slots
  kPositives = 3,   // the epoch's order of the positive slices
  kNegatives = 4,   // the epoch's order of the negative slices
};

class SampleRng {
 public:
  SampleRng(uint64_t seed, RngStream stream, int64_t epoch, int64_t index)
      : seed_(seed),
        stream_(static_cast<uint32_t>(stream)),
        epoch_(static_cast<uint32_t>(epoch)),
        index_(static_cast<uint32_t>(index)) {
    LITS_CHECK(epoch >= 0 && epoch <= UINT32_MAX && index >= 0 && index <= UINT32_MAX,
               "sample stream: epoch " << epoch << " / index " << index << " out of range (0 .. 2^32-1)");
  }

  // 64 random bits; each call takes the next counter.
  uint64_t next_u64() {
    const kernels::Philox4 r = kernels::philox4x32_10(kernels::Philox4{{draw_++, index_, epoch_, stream_}},
                                                      static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32));
    return static_cast<uint64_t>(r.v[0]) << 32 | r.v[1];
  }
  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // A uniform integer in [0, n) (n >= 1), by rejection so that every value is exactly equally likely.
  int64_t below(int64_t n) {
    LITS_CHECK(n >= 1, "sample stream: below(" << n << ")");
    const uint64_t un = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % un;  // draws >= limit would favour small values
    uint64_t x = next_u64();
    while (x >= limit) x = next_u64();
    return static_cast<int64_t>(x % un);
  }
  bool coin() { return (next_u64() >> 63) != 0; }

 private:
  uint64_t seed_;
  uint32_t stream_, epoch_, index_;
  uint32_t draw_ = 0;
};

}  // namespace lits
