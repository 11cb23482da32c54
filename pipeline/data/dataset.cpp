// Sample lists, epoch order and sample making (see dataset.h).
#include "pipeline/data/dataset.h"

#include <numeric>

#include "engine/error.h"
#include "pipeline/data/split.h"
#include "pipeline/data/weightmap.h"

namespace lits {

namespace {

// Fisher-Yates with the stream's uniform integers.
template <typename T>
void shuffle_with(std::vector<T>& x, SampleRng& rng) {
  for (size_t i = x.size(); i-- > 1;) std::swap(x[i], x[static_cast<size_t>(rng.below(static_cast<int64_t>(i) + 1))]);
}

// The float16 weightmap values, decoded once.
const std::vector<float>& half_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = half_to_float(static_cast<uint16_t>(h));
    return t;
  }();
  return table;
}

}  // namespace

DataTask parse_data_task(const std::string& name) {
  if (name == "liver") return DataTask::kLiver;
  if (name == "lesion") return DataTask::kLesion;
  LITS_THROW("data: unknown task '" << name << "' (expected 'liver' or 'lesion')");
}

const char* data_task_name(DataTask task) { return task == DataTask::kLiver ? "liver" : "lesion"; }

Dataset::Dataset(const SliceStore& store, const std::vector<std::string>& volumes, const DatasetOptions& options,
                 DatasetRole role)
    : store_(store), options_(options), role_(role) {
  const bool training = role == DatasetRole::kTraining;
  LITS_CHECK(options.channels >= 1 && options.channels % 2 == 1,
             "dataset: channels " << options.channels << " (expected an odd number: the slice and its neighbours)");
  LITS_CHECK(options.pos_sample_chance >= 1,
             "dataset: pos_sample_chance " << options.pos_sample_chance << " (expected 1 or more)");
  LITS_CHECK(options.roi_vicinity >= 1,
             "dataset: Training_ROI_Vicinity " << options.roi_vicinity << " (expected 1 or more)");
  const bool crop = training && (options.crop_height > 0 || options.crop_width > 0);
  if (crop) {
    LITS_CHECK(options.crop_height >= 2 && options.crop_width >= 2 && options.crop_height % 2 == 0 &&
                   options.crop_width % 2 == 0,
               "dataset: crop_size [" << options.crop_height << ", " << options.crop_width
                                      << "] (expected two even sizes, or none)");
  }
  LITS_CHECK(!volumes.empty(), "dataset: no " << (training ? "training" : "validation") << " volumes");

  int64_t first_h = -1, first_w = -1;
  for (const std::string& name : volumes) {
    const int64_t v = store.find(name);
    LITS_CHECK(v >= 0, "dataset: volume '" << name << "' is not in the slice store '" << store.dir() << "'");
    const StoreEntry& e = store.entry(v);
    LITS_CHECK(e.labels, "dataset: volume '" << name << "' in '" << store.dir()
                                             << "' has no labels (a test volume cannot be used for training)");
    const int64_t depth = e.shape[0], h = e.shape[1], w = e.shape[2];
    LITS_CHECK(depth > options.channels / 2, "dataset: volume '" << name << "' has " << depth << " slices, too few for "
                                                                 << options.channels << " channels (needs more than "
                                                                 << options.channels / 2 << ")");
    if (crop) {
      LITS_CHECK(options.crop_height <= h && options.crop_width <= w,
                 "dataset: crop_size [" << options.crop_height << ", " << options.crop_width << "] is larger than the "
                                        << h << " x " << w << " slices of volume '" << name << "'");
    } else if (training) {
      if (first_h < 0) first_h = h, first_w = w;
      LITS_CHECK(h == first_h && w == first_w,
                 "dataset: volume '" << name << "' has " << h << " x " << w << " slices, others " << first_h << " x "
                                     << first_w << "; training batches without crop_size need one slice size");
    }
    std::vector<int64_t> slices;
    if (options.task == DataTask::kLesion) {
      const std::vector<bool> has_liver(e.liver.begin(), e.liver.end());
      slices = lesion_roi_slices(has_liver, options.roi_vicinity);
    } else {
      slices.resize(static_cast<size_t>(depth));
      std::iota(slices.begin(), slices.end(), int64_t{0});
    }
    for (int64_t k : slices) {
      const SampleRef ref{static_cast<int32_t>(v), static_cast<int32_t>(k)};
      const bool positive = options.task == DataTask::kLiver ? e.liver[static_cast<size_t>(k)] != 0
                                                             : e.lesion[static_cast<size_t>(k)] != 0;
      (!training || positive ? positives_ : negatives_).push_back(ref);
    }
  }
  LITS_CHECK(size() > 0, "dataset: the " << (training ? "training" : "validation")
                                         << " volumes give no samples (lesion task: no slice near a liver slice)");
  hu_table_ = hu_input_table(options.standardize);
}

std::vector<SampleRef> Dataset::epoch_samples(int64_t epoch) const {
  if (role_ == DatasetRole::kValidation) return positives_;
  const int64_t n = size(), k = options_.pos_sample_chance;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  SampleRng order(options_.seed, RngStream::kEpochOrder, epoch, 0);
  shuffle_with(perm, order);
  std::vector<SampleRef> pos = positives_, neg = negatives_;
  SampleRng pos_rng(options_.seed, RngStream::kPositives, epoch, 0);
  SampleRng neg_rng(options_.seed, RngStream::kNegatives, epoch, 0);
  shuffle_with(pos, pos_rng);
  shuffle_with(neg, neg_rng);
  const int64_t np = static_cast<int64_t>(pos.size()), nn = static_cast<int64_t>(neg.size());
  std::vector<SampleRef> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t idx = perm[static_cast<size_t>(i)];
    SampleRef ref;
    if (nn == 0) {
      ref = pos[static_cast<size_t>(idx % np)];
    } else if (np == 0) {
      ref = neg[static_cast<size_t>(idx % nn)];
    } else if (idx % k == 0) {
      ref = pos[static_cast<size_t>((idx / k) % np)];
    } else {
      ref = neg[static_cast<size_t>((idx - idx / k - 1) % nn)];  // rank of idx among the non-multiples of k
    }
    out[static_cast<size_t>(i)] = ref;
  }
  return out;
}

std::pair<int64_t, int64_t> Dataset::sample_size(const SampleRef& ref) const {
  if (role_ == DatasetRole::kTraining && options_.crop_height > 0) return {options_.crop_height, options_.crop_width};
  const StoreEntry& e = store_.entry(ref.volume);
  return {e.shape[1], e.shape[2]};
}

void Dataset::make_sample(const SampleRef& ref, int64_t epoch, int64_t position, const SampleBuffers& out) const {
  const StoreEntry& e = store_.entry(ref.volume);
  const int64_t height = e.shape[1], width = e.shape[2];
  const auto [h, w] = sample_size(ref);
  const bool training = role_ == DatasetRole::kTraining;
  const uint8_t* labels = store_.labels(ref.volume, ref.slice);

  // The sample's transforms; the crop centre's draws follow them on the same stream.
  SampleRng rng(options_.seed, RngStream::kSample, epoch, position);
  AugmentDraw draw;
  if (training && options_.augment.any()) draw = draw_augment(options_.augment, rng);
  const bool crop = training && options_.crop_height > 0;
  // The lesion task's crop centre comes from the augmented liver, so it needs the whole map; otherwise only
  // the window's part of it is made.
  std::vector<int32_t> full_map;
  if (draw.any() && crop && options_.task == DataTask::kLesion) full_map = augment_source_map(height, width, draw);
  auto source = [&](int64_t p) -> int64_t { return full_map.empty() ? p : full_map[static_cast<size_t>(p)]; };

  int64_t row0 = 0, col0 = 0;
  if (crop) {
    // Lesion task: centre drawn from the (augmented) liver's row and column coordinates, independently.
    std::vector<int32_t> liver_pixels;
    if (options_.task == DataTask::kLesion) {
      for (int64_t p = 0; p < height * width; ++p)
        if (labels[source(p)] >= 1) liver_pixels.push_back(static_cast<int32_t>(p));
    }
    int64_t centre_r, centre_c;
    if (!liver_pixels.empty()) {
      const int64_t n = static_cast<int64_t>(liver_pixels.size());
      centre_r = liver_pixels[static_cast<size_t>(rng.below(n))] / width;
      centre_c = liver_pixels[static_cast<size_t>(rng.below(n))] % width;
    } else {
      centre_r = random_crop_centre(height, h, rng);
      centre_c = random_crop_centre(width, w, rng);
    }
    row0 = crop_start(centre_r, height, h);
    col0 = crop_start(centre_c, width, w);
  }

  // The source pixel of every output pixel, shared by all the planes written below.
  std::vector<int32_t> src;
  if (draw.any() && full_map.empty()) {
    src = augment_source_window(height, width, draw, row0, col0, h, w);
  } else {
    src.resize(static_cast<size_t>(h * w));
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        src[static_cast<size_t>(i * w + j)] = static_cast<int32_t>(source((row0 + i) * width + col0 + j));
  }

  const std::vector<int64_t> stack = channel_slices(ref.slice, e.shape[0], options_.channels);
  for (size_t c = 0; c < stack.size(); ++c) {
    const int16_t* image = store_.image(ref.volume, stack[c]);
    float* plane = out.input + static_cast<int64_t>(c) * h * w;
    for (int64_t p = 0; p < h * w; ++p)
      plane[p] = hu_table_[static_cast<size_t>(image[src[static_cast<size_t>(p)]] + 32768)];
  }
  const bool liver_task = options_.task == DataTask::kLiver;
  for (int64_t p = 0; p < h * w; ++p) {
    const uint8_t l = labels[src[static_cast<size_t>(p)]];
    out.target[p] = liver_task ? (l >= 1) : (l == 2);
  }
  if (out.liver != nullptr) {
    for (int64_t p = 0; p < h * w; ++p) out.liver[p] = labels[src[static_cast<size_t>(p)]] >= 1;
  }
  if (out.weightmap != nullptr) {
    const uint16_t* wm =
        liver_task ? store_.liver_weights(ref.volume, ref.slice) : store_.lesion_weights(ref.volume, ref.slice);
    const std::vector<float>& table = half_table();
    for (int64_t p = 0; p < h * w; ++p) out.weightmap[p] = table[wm[src[static_cast<size_t>(p)]]];
  }
}

}  // namespace lits
