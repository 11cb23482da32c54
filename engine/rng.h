// Counter-based random numbers: a Generator is a (seed, offset) pair. Each draw of n values takes
// counters offset .. offset+n-1 and advances the offset by n, so the CPU and CUDA kernels produce
// the same numbers for the same state, and a checkpoint only needs the two integers.
#pragma once

#include <cstdint>

namespace lits {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves n counters and returns the first.
  uint64_t reserve(int64_t n) {
    const uint64_t first = offset_;
    offset_ += static_cast<uint64_t>(n);
    return first;
  }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};

// The process-wide generator used when an op is not given one.
Generator& default_generator();

}  // namespace lits
