// The training and validation datasets over the slice store (docs/reference.md section 5): which slices
// are samples, the positive/negative sampling of an epoch, and the making of one sample: semi-3D channel
// stack, HU window, augmentation, crop, target, weightmap and liver mask.
//
// Deviations from the reference, all recorded in docs/decisions.md:
// - sampling draws positives and negatives from per-epoch shuffles of their lists, so every slice is
//   reachable (the reference's `list[idx mod len]` never reaches some of them, §5.2);
// - every sample's randomness comes from its (seed, epoch, position) stream (sample_rng.h);
// - the random crop reaches the last window position too (§10 item 18).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/data/augment.h"
#include "pipeline/data/slice_store.h"

namespace lits {

enum class DataTask { kLiver, kLesion };
// "liver" or "lesion" (the setup files' `data`).
DataTask parse_data_task(const std::string& name);
const char* data_task_name(DataTask task);

struct DatasetOptions {
  DataTask task = DataTask::kLiver;
  int channels = 1;                         // odd: slices j - channels/2 .. j + channels/2
  int64_t crop_height = 0, crop_width = 0;  // training crop (even); 0 = whole slices
  AugmentModes augment;                     // training only
  int64_t pos_sample_chance = 2;            // 1 in k draws of an epoch is a positive slice
  int64_t roi_vicinity = 4;                 // lesion task: slices within +-V of a liver slice
  bool standardize = false;                 // the reference's no_standardize = !standardize
  bool weightmaps = true;                   // make the task's weightmap (losses that use one)
  uint64_t seed = 1;
};

enum class DatasetRole { kTraining, kValidation };

// One sample: slice `slice` of store volume `volume`.
struct SampleRef {
  int32_t volume = 0;
  int32_t slice = 0;
  bool operator==(const SampleRef&) const = default;
};

// Where make_sample writes; every pointer holds height * width items per plane (sample_size()).
struct SampleBuffers {
  float* input = nullptr;      // [channels, h, w], HU windowed to [0, 1] (or standardised)
  int64_t* target = nullptr;   // [h, w], 0/1: liver (label >= 1) or lesion (label 2) by task
  float* weightmap = nullptr;  // [h, w], the task's weightmap; may be null
  uint8_t* liver = nullptr;    // [h, w], the liver mask (label >= 1); may be null
};

class Dataset {
 public:
  // `volumes`: store volume names in the order they are used (the split's shuffled order). Throws when a
  // volume is missing from the store or is a test volume, when the options are invalid (even channels,
  // odd crop, crop larger than a slice), or when training without a crop meets slices of several sizes.
  Dataset(const SliceStore& store, const std::vector<std::string>& volumes, const DatasetOptions& options,
          DatasetRole role);

  const DatasetOptions& options() const { return options_; }
  DatasetRole role() const { return role_; }
  const SliceStore& store() const { return store_; }
  // Samples per epoch: |positives| + |negatives|.
  int64_t size() const { return static_cast<int64_t>(positives_.size() + negatives_.size()); }
  // Training: slices whose target mask is non-empty, and the others. Validation: every sample is a positive,
  // in volume order then slice order.
  const std::vector<SampleRef>& positives() const { return positives_; }
  const std::vector<SampleRef>& negatives() const { return negatives_; }

  // The sample at each position 0 .. size()-1 of `epoch`. Training: position i takes idx = perm_e(i); idx
  // divisible by pos_sample_chance draws the next positive of this epoch's shuffled positive list (cycling),
  // any other idx the next negative (the other list when one is empty). Validation: positives() as is.
  std::vector<SampleRef> epoch_samples(int64_t epoch) const;

  // The output size of a sample of `ref`: the crop when training with one, else the slice.
  std::pair<int64_t, int64_t> sample_size(const SampleRef& ref) const;
  // Makes the sample at `position` of `epoch` (training: augmented and cropped with that position's stream).
  void make_sample(const SampleRef& ref, int64_t epoch, int64_t position, const SampleBuffers& out) const;

 private:
  const SliceStore& store_;
  DatasetOptions options_;
  DatasetRole role_;
  std::vector<SampleRef> positives_, negatives_;
  std::vector<float> hu_table_;  // int16 value + 32768 -> network input
};

}  // namespace lits
