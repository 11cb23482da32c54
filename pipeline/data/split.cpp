// NumPy's legacy RandomState on MT19937 (Matsumoto & Nishimura's generator, NumPy's seeding and
// bounded draws), the volume split and the per-slice rules of the reference dataset.
#include "pipeline/data/split.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace lits {

namespace {

constexpr int kShift = 397;  // MT19937's middle word offset m
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpperMask = 0x80000000u;
constexpr uint32_t kLowerMask = 0x7fffffffu;

// Section 4.1's window and the reference's hard-coded mean/std of the [0, 1] image.
constexpr double kHuLow = -100.0;
constexpr double kHuHigh = 400.0;
constexpr double kMean = 0.1021;
constexpr double kStd = 0.19177;

// The smallest all-ones mask covering max.
uint64_t mask_for(uint64_t max) {
  uint64_t mask = max;
  for (int s = 1; s <= 32; s *= 2) mask |= mask >> s;
  return mask;
}

}  // namespace

LegacyRandomState::LegacyRandomState(int64_t seed) {
  LITS_CHECK(seed >= 0 && seed <= 0xffffffffLL, "RandomState seed " << seed << " is outside [0, 2^32 - 1]");
  // init_genrand: NumPy's RandomState(int) does not go through init_by_array.
  uint32_t s = static_cast<uint32_t>(seed);
  for (int i = 0; i < kStateSize; ++i) {
    mt_[i] = s;
    s = 1812433253u * (s ^ (s >> 30)) + static_cast<uint32_t>(i + 1);
  }
  pos_ = kStateSize;
}

void LegacyRandomState::generate() {
  for (int i = 0; i < kStateSize; ++i) {
    const uint32_t y = (mt_[i] & kUpperMask) | (mt_[(i + 1) % kStateSize] & kLowerMask);
    mt_[i] = mt_[(i + kShift) % kStateSize] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  }
  pos_ = 0;
}

uint32_t LegacyRandomState::next_uint32() {
  if (pos_ == kStateSize) generate();
  uint32_t y = mt_[pos_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t LegacyRandomState::next_uint64() {
  const uint64_t high = next_uint32();
  return (high << 32) | next_uint32();
}

uint64_t LegacyRandomState::random_interval(uint64_t max) {
  if (max == 0) return 0;
  const uint64_t mask = mask_for(max);
  uint64_t value;
  if (max <= 0xffffffffu) {
    while ((value = next_uint32() & mask) > max) {
    }
  } else {
    while ((value = next_uint64() & mask) > max) {
    }
  }
  return value;
}

int64_t LegacyRandomState::randint(int64_t low, int64_t high) {
  LITS_CHECK(low < high, "randint: low " << low << " must be below high " << high);
  // The inclusive range in unsigned arithmetic, so a span beyond INT64_MAX still works.
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) - 1;
  return static_cast<int64_t>(static_cast<uint64_t>(low) + random_interval(range));
}

double LegacyRandomState::rand() {
  const uint32_t a = next_uint32() >> 5, b = next_uint32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

VolumeSplit split_volumes(const std::vector<int>& volumes, int64_t seed, double perc_data, double train_val_split) {
  // The shuffle permutes positions, so the result depends on the input order: insist on the
  // reference's order (ascending volume number) rather than silently producing another split.
  for (size_t i = 1; i < volumes.size(); ++i) {
    LITS_CHECK(volumes[i - 1] < volumes[i], "split_volumes: volume numbers must be strictly ascending, got "
                                                << volumes[i - 1] << " before " << volumes[i] << " at position " << i);
  }
  LITS_CHECK(perc_data > 0.0 && perc_data <= 1.0, "split_volumes: perc_data " << perc_data << " is outside (0, 1]");
  LITS_CHECK(train_val_split >= 0.0 && train_val_split <= 1.0,
             "split_volumes: train_val_split " << train_val_split << " is outside [0, 1]");
  std::vector<int> order = volumes;
  LegacyRandomState rng(seed);
  rng.shuffle(order);
  // Python: int(len(volumes) * perc_data) and int(n_used * split), float products truncated.
  const auto n_used = static_cast<size_t>(static_cast<double>(order.size()) * perc_data);
  const auto n_train = static_cast<size_t>(static_cast<double>(n_used) * train_val_split);
  VolumeSplit split;
  split.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_train));
  split.validation.assign(order.begin() + static_cast<std::ptrdiff_t>(n_train),
                          order.begin() + static_cast<std::ptrdiff_t>(n_used));
  return split;
}

std::vector<int64_t> channel_slices(int64_t j, int64_t depth, int channels) {
  LITS_CHECK(channels >= 1 && channels % 2 == 1, "channel_slices: channels " << channels << " must be odd and >= 1");
  const int64_t e = channels / 2;
  LITS_CHECK(depth > e, "channel_slices: a volume of " << depth << " slices is too thin for " << channels
                                                       << " channels (needs more than " << e << ")");
  LITS_CHECK(j >= 0 && j < depth, "channel_slices: slice " << j << " is outside [0, " << depth << ")");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(channels));
  for (int64_t k = j - e; k <= j + e; ++k) {
    if (k < 0) {
      out.push_back(-k);
    } else if (k >= depth) {
      out.push_back(2 * (depth - 1) - k);
    } else {
      out.push_back(k);
    }
  }
  return out;
}

std::vector<int64_t> lesion_roi_slices(const std::vector<bool>& has_liver, int64_t vicinity) {
  // V = 0 would make every window empty and keep no slice at all: refuse it rather than build an empty set.
  LITS_CHECK(vicinity >= 1, "lesion_roi_slices: vicinity " << vicinity << " must be >= 1");
  const auto n = static_cast<int64_t>(has_liver.size());
  // prefix[k] = number of liver slices among the first k.
  std::vector<int64_t> prefix(has_liver.size() + 1, 0);
  for (int64_t k = 0; k < n; ++k) prefix[k + 1] = prefix[k] + (has_liver[k] ? 1 : 0);
  std::vector<int64_t> kept;
  for (int64_t j = 0; j < n; ++j) {
    // Python slice bounds: start clamped at 0 by max(), stop clamped at n by the slice itself.
    const int64_t begin = std::max<int64_t>(j - vicinity, 0);
    const int64_t end = std::min(j + vicinity, n);
    if (prefix[end] - prefix[begin] > 0) kept.push_back(j);
  }
  return kept;
}

std::vector<float> hu_input_table(bool standardize) {
  std::vector<float> t(65536);
  for (int32_t i = 0; i < 65536; ++i)
    t[static_cast<size_t>(i)] = static_cast<float>(hu_normalize(i - 32768, standardize));
  return t;
}

double hu_normalize(double value, bool standardize) {
  double x = std::clamp(value, kHuLow, kHuHigh);
  x = std::clamp((x - kHuLow) / (kHuHigh - kHuLow), 0.0, 1.0);
  if (standardize) x = (x - kMean) / kStd;
  return x;
}

}  // namespace lits
