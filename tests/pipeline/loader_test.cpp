// The threaded loader: the same batches, bit for bit, for 0, 1 and 3 worker threads; batch counts with and
// without the last partial batch; resuming inside an epoch; per-volume end flags; a worker's error naming
// the volume and slice; shutdown in the middle of an epoch; pinned batches falling back without a GPU.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "engine/device.h"
#include "pipeline/data/loader.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.nbytes())) == 0;
}

std::vector<Batch> all_batches(const Dataset& ds, int64_t epoch, LoaderOptions o) {
  Loader loader(ds, epoch, o);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

class LoaderTest : public PhantomStore {
 protected:
  void SetUp() override {
    make_store(3);
    store_ = std::make_unique<SliceStore>(store_dir());
  }
  DatasetOptions training_options() const {
    DatasetOptions o;
    o.channels = 3;
    o.crop_height = o.crop_width = 32;
    o.augment = parse_augment_modes({"rot", "zoom", "hflip", "vflip"});
    return o;
  }
  std::unique_ptr<SliceStore> store_;
};

TEST_F(LoaderTest, BatchesDoNotDependOnTheThreadCount) {
  const Dataset ds(*store_, {"volume-1", "volume-0", "volume-2"}, training_options(), DatasetRole::kTraining);
  LoaderOptions o;
  o.batch_size = 5;  // 48 samples: 9 full batches and one of 3
  o.threads = 0;
  const std::vector<Batch> ref = all_batches(ds, 2, o);
  ASSERT_EQ(ref.size(), 10u);
  EXPECT_EQ(ref.back().input.shape(), Shape({3, 3, 32, 32}));
  EXPECT_EQ(ref[0].target.shape(), Shape({5, 32, 32}));
  EXPECT_EQ(ref[0].target.dtype(), DType::kInt64);
  EXPECT_FALSE(ref[0].liver.defined());  // liver task
  for (int threads : {1, 3}) {
    o.threads = threads;
    o.prefetch = threads == 1 ? 1 : 4;
    const std::vector<Batch> got = all_batches(ds, 2, o);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_EQ(got[i].index, static_cast<int64_t>(i));
      EXPECT_TRUE(same_bytes(got[i].input, ref[i].input)) << threads << " threads, batch " << i;
      EXPECT_TRUE(same_bytes(got[i].target, ref[i].target)) << threads << " threads, batch " << i;
      EXPECT_TRUE(same_bytes(got[i].weightmap, ref[i].weightmap)) << threads << " threads, batch " << i;
      EXPECT_EQ(got[i].samples, ref[i].samples);
    }
  }
  // Another epoch is another set of batches.
  o.threads = 2;
  EXPECT_FALSE(same_bytes(all_batches(ds, 3, o)[0].input, ref[0].input));
}

TEST_F(LoaderTest, DropLastAndResumeInsideAnEpoch) {
  const Dataset ds(*store_, {"volume-0", "volume-1"}, training_options(), DatasetRole::kTraining);
  LoaderOptions o;
  o.batch_size = 7;  // 32 samples
  o.threads = 2;
  const std::vector<Batch> full = all_batches(ds, 0, o);
  EXPECT_EQ(full.size(), 5u);
  o.drop_last = true;
  EXPECT_EQ(all_batches(ds, 0, o).size(), 4u);
  o.drop_last = false;
  o.first_sample = 21;
  const std::vector<Batch> tail = all_batches(ds, 0, o);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].index, 3);
  EXPECT_EQ(tail[0].first, 21);
  EXPECT_TRUE(same_bytes(tail[0].input, full[3].input));
  EXPECT_TRUE(same_bytes(tail[1].target, full[4].target));
  o.first_sample = 33;
  expect_contains(error_of([&] { Loader(ds, 0, o); }), {"first sample 33", "32 samples"});
}

// Shards of a data-parallel job: N shards of batch B see, step by step, exactly the samples (and bytes) of
// one loader of batch N * B, also from a resume position that is not a multiple of the global batch, and
// a last partial step is split evenly (a shard may get nothing).
TEST_F(LoaderTest, ShardsSplitEachGlobalBatchOfOneLoader) {
  const Dataset ds(*store_, {"volume-0", "volume-1"}, training_options(), DatasetRole::kTraining);
  for (const int64_t start : {int64_t{0}, int64_t{5}}) {
    LoaderOptions one;
    one.batch_size = 9;
    one.threads = 1;
    one.first_sample = start;
    const std::vector<Batch> whole = all_batches(ds, 2, one);
    std::vector<std::vector<Batch>> parts;
    for (int r = 0; r < 3; ++r) {
      LoaderOptions o = one;
      o.batch_size = 3;
      o.shards = 3;
      o.shard = r;
      o.threads = r % 2;
      parts.push_back(all_batches(ds, 2, o));
      ASSERT_EQ(parts.back().size(), whole.size()) << "start " << start;
    }
    for (size_t k = 0; k < whole.size(); ++k) {
      std::vector<SampleRef> joined;
      std::vector<float> bytes;
      for (int r = 0; r < 3; ++r) {
        const Batch& b = parts[static_cast<size_t>(r)][k];
        EXPECT_EQ(b.step_samples, whole[k].size());
        joined.insert(joined.end(), b.samples.begin(), b.samples.end());
        if (b.size() > 0) {
          const std::vector<double> v = b.input.to_vector();
          bytes.insert(bytes.end(), v.begin(), v.end());
        }
      }
      ASSERT_EQ(joined.size(), whole[k].samples.size()) << "step " << k;
      for (size_t i = 0; i < joined.size(); ++i) {
        EXPECT_EQ(joined[i].volume, whole[k].samples[i].volume);
        EXPECT_EQ(joined[i].slice, whole[k].samples[i].slice);
      }
      const std::vector<double> ref = whole[k].input.to_vector();
      ASSERT_EQ(bytes.size(), ref.size());
      for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(bytes[i], static_cast<float>(ref[i])) << "step " << k;
    }
    // 32 - start samples in global batches of 9: the last step holds 5 (start 0) or 0 + 9 * 3 = 27 (start 5).
    const Batch& last0 = parts[0].back();
    EXPECT_EQ(last0.step_samples, start == 0 ? 5 : 9);
    if (start == 0) {
      EXPECT_EQ(parts[0].back().size() + parts[1].back().size() + parts[2].back().size(), 5);
      EXPECT_EQ(parts[1].back().size(), 2);  // 5 split as 1, 2, 2
    }
  }
  LoaderOptions bad;
  bad.shards = 2;
  bad.shard = 2;
  expect_contains(error_of([&] { Loader(ds, 0, bad); }), {"shard 2 of 2"});
}

TEST_F(LoaderTest, ValidationBatchesFlagTheLastSliceOfEachVolume) {
  DatasetOptions v;
  v.task = DataTask::kLesion;
  v.roi_vicinity = 16;  // every slice
  const Dataset ds(*store_, {"volume-2", "volume-0"}, v, DatasetRole::kValidation);
  LoaderOptions o;
  o.batch_size = 1;
  o.threads = 1;
  const std::vector<Batch> batches = all_batches(ds, 0, o);
  ASSERT_EQ(batches.size(), 32u);
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].last_of_volume.at(0), i == 15 || i == 31) << i;
    EXPECT_EQ(batches[i].input.shape(), Shape({1, 1, 64, 64}));
    ASSERT_TRUE(batches[i].liver.defined());  // lesion validation is masked by the true liver
    EXPECT_EQ(batches[i].liver.dtype(), DType::kUInt8);
  }
}

TEST_F(LoaderTest, AWorkerErrorNamesTheVolumeAndSlice) {
  // A second phantom set with 48 x 48 slices, renamed volume-7, joins the store: its slices cannot share a
  // batch with the 64 x 64 ones.
  SynthOptions s;
  s.out = (dir_ / "small").string();
  s.train = 1;
  s.test = 0;
  s.phantom.size = 48;
  s.phantom.slices = 8;
  write_synth_dataset(s);
  const fs::path td = dir_ / "small" / "Training_Data";
  fs::rename(td / "volume-0.nii.gz", td / "volume-7.nii.gz");
  fs::rename(td / "segmentation-0.nii.gz", td / "segmentation-7.nii.gz");
  ConvertOptions c;
  c.in = td.string();
  c.out = store_dir();
  ASSERT_TRUE(convert_dataset(c).failures.empty());
  const SliceStore store(store_dir());
  DatasetOptions v;
  const Dataset ds(store, {"volume-0", "volume-7"}, v, DatasetRole::kValidation);
  LoaderOptions o;
  o.batch_size = 10;  // batch 1 holds volume-0 slices 10-15 and volume-7 slices 0-3
  o.threads = 2;
  Loader loader(ds, 0, o);
  ASSERT_TRUE(loader.next().has_value());
  const std::string message = error_of([&] { loader.next(); });
  expect_contains(message, {"volume-7 slice 0", "batch 1", "48 x 48", "64 x 64"});
  EXPECT_EQ(error_of([&] { loader.next(); }), message);  // the epoch stays failed
  // With batch size 1 the mixed sizes are fine.
  o.batch_size = 1;
  EXPECT_EQ(all_batches(ds, 0, o).size(), 24u);
}

TEST_F(LoaderTest, StopsCleanlyInTheMiddleOfAnEpoch) {
  const Dataset ds(*store_, {"volume-0", "volume-1", "volume-2"}, training_options(), DatasetRole::kTraining);
  LoaderOptions o;
  o.batch_size = 2;
  o.threads = 3;
  o.prefetch = 2;
  for (int taken : {0, 1, 5}) {
    Loader loader(ds, 0, o);
    for (int i = 0; i < taken; ++i) ASSERT_TRUE(loader.next().has_value());
  }  // each destructor stops and joins its workers, which may be blocked on the full queue
}

TEST_F(LoaderTest, PinnedBatchesHoldTheSameData) {
  const Dataset ds(*store_, {"volume-0"}, training_options(), DatasetRole::kTraining);
  LoaderOptions o;
  o.batch_size = 4;
  const std::vector<Batch> plain = all_batches(ds, 0, o);
  o.pin_memory = true;
  const std::vector<Batch> pinned = all_batches(ds, 0, o);
  ASSERT_EQ(plain.size(), pinned.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(pinned[i].input.is_pinned(), cuda_available());  // page-locked only with a usable GPU
    EXPECT_FALSE(plain[i].input.is_pinned());
    EXPECT_TRUE(same_bytes(plain[i].input, pinned[i].input));
  }
}

}  // namespace
}  // namespace lits::testing
