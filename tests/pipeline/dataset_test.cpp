// The dataset over a phantom store: validation samples equal the stored slices put through the HU window
// and the reflected channel stack (checked with the formulas written out here), the lesion task's ROI slices
// and targets, crops that are windows of the slice with the reference's centre rules, augmentation that moves
// every plane together, and an epoch's sampling (one draw in k positive, every slice reachable).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "pipeline/data/dataset.h"
#include "pipeline/data/split.h"
#include "pipeline/data/weightmap.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"

namespace lits::testing {
namespace {

float window(int16_t hu) {  // docs/reference.md section 4.1 with no_standardize
  const double x = std::clamp(static_cast<double>(hu), -100.0, 400.0);
  return static_cast<float>((x + 100.0) / 500.0);
}

struct Made {
  int64_t h = 0, w = 0;
  std::vector<float> input, weightmap;
  std::vector<int64_t> target;
  std::vector<uint8_t> liver;
};

Made make(const Dataset& ds, const SampleRef& ref, int64_t epoch, int64_t position) {
  Made m;
  std::tie(m.h, m.w) = ds.sample_size(ref);
  const int64_t n = m.h * m.w;
  m.input.resize(static_cast<size_t>(ds.options().channels * n));
  m.target.resize(static_cast<size_t>(n));
  m.weightmap.resize(static_cast<size_t>(n));
  m.liver.resize(static_cast<size_t>(n));
  ds.make_sample(ref, epoch, position, {m.input.data(), m.target.data(), m.weightmap.data(), m.liver.data()});
  return m;
}

class DatasetTest : public PhantomStore {
 protected:
  void SetUp() override {
    make_store();
    store_ = std::make_unique<SliceStore>(store_dir());
    for (int v = 0; v < 4; ++v) stored_[v] = read_stored_volume(store_dir(), "volume-" + std::to_string(v));
  }
  const StoredVolume& stored(const SampleRef& ref) { return stored_[volume_number(store_->entry(ref.volume).name)]; }
  // Full-slice planes of a stored slice: k, label, weight.
  static int64_t at(int64_t k, int64_t p) { return k * 64 * 64 + p; }

  std::unique_ptr<SliceStore> store_;
  std::map<int, StoredVolume> stored_;
};

TEST_F(DatasetTest, ValidationSamplesAreTheWindowedStoredSlicesWithReflectedNeighbours) {
  DatasetOptions o;
  o.channels = 3;
  const Dataset ds(*store_, {"volume-2", "volume-0"}, o, DatasetRole::kValidation);
  const std::vector<SampleRef> samples = ds.epoch_samples(5);
  ASSERT_EQ(samples.size(), 32u);
  EXPECT_EQ(store_->entry(samples[0].volume).name, "volume-2");
  EXPECT_EQ(store_->entry(samples[16].volume).name, "volume-0");
  for (int i = 0; i < 32; ++i) EXPECT_EQ(samples[static_cast<size_t>(i)].slice, i % 16);
  EXPECT_EQ(ds.negatives().size(), 0u);

  for (int i : {0, 7, 15, 16, 31}) {
    const SampleRef ref = samples[static_cast<size_t>(i)];
    const StoredVolume& sv = stored(ref);
    const Made m = make(ds, ref, 0, i);
    ASSERT_EQ(m.h, 64);
    const int64_t j = ref.slice;
    const int64_t below = j == 0 ? 1 : j - 1, above = j == 15 ? 14 : j + 1;  // reflection without the edge
    const int64_t stack[3] = {below, j, above};
    for (int c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 64 * 64; ++p)
        ASSERT_EQ(m.input[static_cast<size_t>(c * 4096 + p)], window(sv.image[static_cast<size_t>(at(stack[c], p))]))
            << "sample " << i << " channel " << c << " pixel " << p;
    int64_t liver = 0;
    for (int64_t p = 0; p < 64 * 64; ++p) {
      const uint8_t l = sv.labels[static_cast<size_t>(at(j, p))];
      ASSERT_EQ(m.target[static_cast<size_t>(p)], l >= 1 ? 1 : 0);
      ASSERT_EQ(m.liver[static_cast<size_t>(p)], l >= 1 ? 1 : 0);
      ASSERT_EQ(m.weightmap[static_cast<size_t>(p)], half_to_float(sv.liver_weights[static_cast<size_t>(at(j, p))]));
      liver += l >= 1;
    }
    EXPECT_EQ(liver > 0, sv.entry.liver[static_cast<size_t>(j)] != 0);
  }
}

TEST_F(DatasetTest, LesionTaskKeepsSlicesNearTheLiverAndTargetsLesions) {
  DatasetOptions o;
  o.task = DataTask::kLesion;
  o.roi_vicinity = 2;
  const Dataset ds(*store_, {"volume-0", "volume-1"}, o, DatasetRole::kTraining);
  std::set<std::pair<int, int>> kept;
  for (const auto* list : {&ds.positives(), &ds.negatives()})
    for (const SampleRef& r : *list) kept.insert({r.volume, r.slice});
  int64_t lesion_slices = 0;
  for (const char* name : {"volume-0", "volume-1"}) {
    const int v = static_cast<int>(store_->find(name));
    const StoreEntry& e = store_->entry(v);
    for (int j = 0; j < 16; ++j) {
      bool near = false;  // a liver slice in [j - 2, j + 1]
      for (int k = std::max(j - 2, 0); k <= std::min(j + 1, 15); ++k) near = near || e.liver[static_cast<size_t>(k)];
      EXPECT_EQ(kept.count({v, j}) == 1, near) << name << " slice " << j;
      const bool positive =
          std::find(ds.positives().begin(), ds.positives().end(), SampleRef{v, j}) != ds.positives().end();
      EXPECT_EQ(positive, near && e.lesion[static_cast<size_t>(j)] != 0) << name << " slice " << j;
      lesion_slices += positive;
    }
  }
  ASSERT_GT(lesion_slices, 0);  // volume 0 of every synth set has lesions
  const SampleRef ref = ds.positives()[0];
  const StoredVolume& sv = stored(ref);
  const Made m = make(ds, ref, 0, 0);
  for (int64_t p = 0; p < 64 * 64; ++p) {
    ASSERT_EQ(m.target[static_cast<size_t>(p)], sv.labels[static_cast<size_t>(at(ref.slice, p))] == 2 ? 1 : 0);
    ASSERT_EQ(m.weightmap[static_cast<size_t>(p)],
              half_to_float(sv.lesion_weights[static_cast<size_t>(at(ref.slice, p))]));
  }
}

// Where in the full slice a crop without augmentation was taken: the (row, column) offsets at which every
// plane matches, or none.
std::vector<std::pair<int64_t, int64_t>> crop_offsets(const Made& m, const StoredVolume& sv, int64_t k,
                                                      const std::vector<uint16_t>& weights) {
  std::vector<std::pair<int64_t, int64_t>> found;
  for (int64_t r0 = 0; r0 + m.h <= 64; ++r0)
    for (int64_t c0 = 0; c0 + m.w <= 64; ++c0) {
      bool same = true;
      for (int64_t i = 0; i < m.h && same; ++i)
        for (int64_t j = 0; j < m.w && same; ++j) {
          const int64_t q = (r0 + i) * 64 + c0 + j, p = i * m.w + j;
          same = m.input[static_cast<size_t>(p)] == window(sv.image[static_cast<size_t>(k * 4096 + q)]) &&
                 m.weightmap[static_cast<size_t>(p)] == half_to_float(weights[static_cast<size_t>(k * 4096 + q)]) &&
                 m.liver[static_cast<size_t>(p)] == (sv.labels[static_cast<size_t>(k * 4096 + q)] >= 1);
        }
      if (same) found.emplace_back(r0, c0);
    }
  return found;
}

TEST_F(DatasetTest, LesionCropsAreCentredOnLiverRowsAndColumns) {
  DatasetOptions o;
  o.task = DataTask::kLesion;
  o.crop_height = o.crop_width = 32;
  const Dataset ds(*store_, {"volume-0", "volume-2"}, o, DatasetRole::kTraining);
  const std::vector<SampleRef> samples = ds.epoch_samples(0);
  int with_liver = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const SampleRef ref = samples[i];
    const StoredVolume& sv = stored(ref);
    const Made m = make(ds, ref, 0, static_cast<int64_t>(i));
    const auto offsets = crop_offsets(m, sv, ref.slice, sv.lesion_weights);
    ASSERT_FALSE(offsets.empty()) << "sample " << i << " is not a window of its slice";
    int64_t rmin = 64, rmax = -1, cmin = 64, cmax = -1;
    for (int64_t p = 0; p < 4096; ++p)
      if (sv.labels[static_cast<size_t>(ref.slice * 4096 + p)] >= 1)
        rmin = std::min(rmin, p / 64), rmax = std::max(rmax, p / 64), cmin = std::min(cmin, p % 64),
        cmax = std::max(cmax, p % 64);
    if (rmax < 0) continue;
    ++with_liver;
    // The centre (offset + 15) is some liver pixel's row / column, clipped to [15, 47].
    bool consistent = false;
    for (auto [r0, c0] : offsets) {
      const int64_t cr = r0 + 15, cc = c0 + 15;
      consistent = consistent || (cr >= std::clamp<int64_t>(rmin, 15, 47) && cr <= std::clamp<int64_t>(rmax, 15, 47) &&
                                  cc >= std::clamp<int64_t>(cmin, 15, 47) && cc <= std::clamp<int64_t>(cmax, 15, 47));
    }
    EXPECT_TRUE(consistent) << "sample " << i << ": crop not centred within the liver's rows and columns";
  }
  EXPECT_GT(with_liver, 5);
}

TEST_F(DatasetTest, AugmentationMovesEveryPlaneTogether) {
  DatasetOptions o;
  o.channels = 3;
  o.crop_height = o.crop_width = 48;
  o.augment = parse_augment_modes({"rot", "zoom", "hflip", "vflip"});
  const Dataset ds(*store_, {"volume-0", "volume-3"}, o, DatasetRole::kTraining);
  const std::vector<SampleRef> samples = ds.epoch_samples(1);
  int transformed = 0;
  for (size_t i = 0; i < samples.size(); i += 3) {
    const SampleRef ref = samples[i];
    const StoredVolume& sv = stored(ref);
    const Made m = make(ds, ref, 1, static_cast<int64_t>(i));
    // Every output pixel's (3 channels, target, weight, liver) must be one source pixel's.
    const std::vector<int64_t> stack = channel_slices(ref.slice, 16, 3);
    std::set<std::tuple<float, float, float, int64_t, float>> source;
    for (int64_t q = 0; q < 4096; ++q)
      source.insert({window(sv.image[static_cast<size_t>(stack[0] * 4096 + q)]),
                     window(sv.image[static_cast<size_t>(stack[1] * 4096 + q)]),
                     window(sv.image[static_cast<size_t>(stack[2] * 4096 + q)]),
                     sv.labels[static_cast<size_t>(ref.slice * 4096 + q)] >= 1 ? 1 : 0,
                     half_to_float(sv.liver_weights[static_cast<size_t>(ref.slice * 4096 + q)])});
    for (int64_t p = 0; p < 48 * 48; ++p) {
      const auto t = std::make_tuple(m.input[static_cast<size_t>(p)], m.input[static_cast<size_t>(2304 + p)],
                                     m.input[static_cast<size_t>(4608 + p)], m.target[static_cast<size_t>(p)],
                                     m.weightmap[static_cast<size_t>(p)]);
      ASSERT_TRUE(source.count(t)) << "sample " << i << " pixel " << p << " mixes source pixels";
      ASSERT_EQ(m.liver[static_cast<size_t>(p)], m.target[static_cast<size_t>(p)]);
    }
    // Channel 1 as a plain window of the slice? Only when all four coins came up tails (1 in 16).
    Made centre = m;
    centre.input.assign(m.input.begin() + 2304, m.input.begin() + 4608);
    transformed += crop_offsets(centre, sv, ref.slice, sv.liver_weights).empty();
  }
  EXPECT_GT(transformed, 0);
  // The same (epoch, position) gives the same sample; another epoch another one.
  const Made a = make(ds, samples[4], 1, 4), b = make(ds, samples[4], 1, 4), c = make(ds, samples[4], 2, 4);
  EXPECT_EQ(a.input, b.input);
  EXPECT_NE(a.input, c.input);
}

TEST_F(DatasetTest, AnEpochDrawsOneInKPositiveAndReachesEverySlice) {
  for (int64_t k : {2, 3}) {
    DatasetOptions o;
    o.pos_sample_chance = k;
    const Dataset ds(*store_, {"volume-0", "volume-1", "volume-2"}, o, DatasetRole::kTraining);
    const int64_t n = ds.size();
    ASSERT_EQ(n, 48);
    const std::set<std::pair<int, int>> pos = [&] {
      std::set<std::pair<int, int>> s;
      for (const SampleRef& r : ds.positives()) s.insert({r.volume, r.slice});
      return s;
    }();
    ASSERT_FALSE(pos.empty());
    ASSERT_FALSE(ds.negatives().empty());
    std::set<std::pair<int, int>> seen;
    for (int64_t epoch = 0; epoch < 6; ++epoch) {
      const std::vector<SampleRef> s = ds.epoch_samples(epoch);
      ASSERT_EQ(static_cast<int64_t>(s.size()), n);
      int64_t positives = 0;
      std::set<std::pair<int, int>> pos_seen;
      for (const SampleRef& r : s) {
        seen.insert({r.volume, r.slice});
        if (pos.count({r.volume, r.slice})) ++positives, pos_seen.insert({r.volume, r.slice});
      }
      EXPECT_EQ(positives, (n + k - 1) / k) << "k " << k << " epoch " << epoch;
      if ((n + k - 1) / k >= static_cast<int64_t>(pos.size())) {
        EXPECT_EQ(pos_seen, pos) << "every positive each epoch";
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), n) << "every slice drawn within 6 epochs, k " << k;
    EXPECT_EQ(ds.epoch_samples(3), ds.epoch_samples(3));
    EXPECT_NE(ds.epoch_samples(3), ds.epoch_samples(4));
  }
}

TEST_F(DatasetTest, BadOptionsAndVolumesAreNamed) {
  DatasetOptions o;
  auto err = [&](const std::vector<std::string>& volumes, const DatasetOptions& opt) {
    return error_of([&] { Dataset(*store_, volumes, opt, DatasetRole::kTraining); });
  };
  expect_contains(err({"volume-9"}, o), {"volume-9", "not in the slice store"});
  DatasetOptions even = o;
  even.channels = 2;
  expect_contains(err({"volume-0"}, even), {"channels 2", "odd"});
  DatasetOptions odd = o;
  odd.crop_height = odd.crop_width = 31;
  expect_contains(err({"volume-0"}, odd), {"crop_size [31, 31]", "even"});
  DatasetOptions large = o;
  large.crop_height = large.crop_width = 128;
  expect_contains(err({"volume-0"}, large), {"crop_size [128, 128]", "64 x 64", "volume-0"});
  DatasetOptions deep = o;
  deep.channels = 33;
  expect_contains(err({"volume-1"}, deep), {"volume-1", "16 slices", "33 channels"});
  expect_contains(error_of([] { parse_data_task("kidney"); }), {"'kidney'", "'liver'", "'lesion'"});
  expect_contains(error_of([&] { SliceStore(dir_.string()); }), {"no index.json"});
}

}  // namespace
}  // namespace lits::testing
