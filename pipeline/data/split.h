// The reference's train/validation split by volume and the small per-slice rules of its dataset
// (docs/reference.md sections 4.1, 5.1): NumPy's legacy RandomState on MT19937 (seeded shuffle,
// randint, rand), the channel-stack slice indices, the lesion ROI slice filter and the HU normalisation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lits {

// numpy.random.RandomState(seed) for an integer seed, drawing exactly as NumPy's legacy code does, so
// that the reference's seeded shuffles and draws are reproduced number for number.
class LegacyRandomState {
 public:
  // NumPy accepts integer seeds in [0, 2^32 - 1] and seeds with MT19937's init_genrand.
  explicit LegacyRandomState(int64_t seed);

  // The next raw MT19937 output.
  uint32_t next_uint32();
  // Two outputs, the first in the high word (NumPy's next_uint64 for MT19937).
  uint64_t next_uint64();
  // A uniform integer in [0, max] by masked rejection: 32-bit draws while max fits 32 bits, else 64-bit
  // (NumPy's random_interval; legacy randint's bounded draws are the same routine). max = 0 draws nothing.
  uint64_t random_interval(uint64_t max);
  // RandomState.randint(low, high) for the default int64 dtype: a uniform integer in [low, high).
  int64_t randint(int64_t low, int64_t high);
  int64_t randint(int64_t high) { return randint(0, high); }
  // RandomState.rand() / random_sample(): a double in [0, 1) with 53 random bits from two draws.
  double rand();

  // RandomState.shuffle of a 1-D sequence: Fisher-Yates from the end, i = n-1 .. 1 swapped with
  // j = random_interval(i).
  template <typename T>
  void shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i-- > 1;) {
      const size_t j = static_cast<size_t>(random_interval(i));
      std::swap(x[i], x[j]);
    }
  }

 private:
  void generate();

  static constexpr int kStateSize = 624;
  std::array<uint32_t, kStateSize> mt_{};
  int pos_ = kStateSize;
};

// The volumes of the two datasets, each in shuffled order (the order they are processed in).
struct VolumeSplit {
  std::vector<int> train;
  std::vector<int> validation;
};

// Section 5.1: the volume numbers (ascending, as the reference sorts them by the integer in the name) are
// shuffled with RandomState(seed); n_used = int(n * perc_data), n_train = int(n_used * train_val_split);
// training = the first n_train, validation = the next n_used - n_train. Both products are truncated as
// Python's int() of a float, so e.g. 131 * 0.9 -> 117 exactly as the reference.
VolumeSplit split_volumes(const std::vector<int>& volumes, int64_t seed, double perc_data, double train_val_split);

// Section 5.1: the slice indices stacked as channels for target slice j of a volume with `depth` slices:
// j-e .. j+e (e = channels / 2, ascending, centre = j), out-of-range indices reflected without repeating
// the edge (-1 -> 1, depth -> depth-2). channels must be odd and depth > e so one reflection lands inside.
std::vector<int64_t> channel_slices(int64_t j, int64_t depth, int channels);

// Section 5.1: the slices kept for lesion training: j such that sum(has_liver[max(j-V, 0) : j+V]) > 0,
// i.e. some liver slice in the half-open window [j-V, j+V-1] (V = Training_ROI_Vicinity). Ascending.
std::vector<int64_t> lesion_roi_slices(const std::vector<bool>& has_liver, int64_t vicinity);

// Section 4.1: clip to [-100, 400] HU, map to [0, 1], then optionally standardise with the reference's
// hard-coded dataset mean and std ((x - 0.1021) / 0.19177; presets set no_standardize, so standardize=false).
double hu_normalize(double value, bool standardize);
// hu_normalize of every int16 value as float, indexed by value + 32768: what the dataset and inference read
// images through.
std::vector<float> hu_input_table(bool standardize);

}  // namespace lits
