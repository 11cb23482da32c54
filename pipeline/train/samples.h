// Sample images of a run (docs/reference.md section 6.6, as PNG): a few validation slices, each a row of three
// tiles: the input's centre slice, the true mask and the predicted mask. The slices are fixed for a run
// (evenly spaced among the validation slices that show the target), so images of different epochs compare.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "pipeline/data/dataset.h"
#include "pipeline/data/loader.h"

namespace lits {

// The network's decision per pixel of sample `sample` of `out` (host float32 [B, K, H, W]): the argmax over
// channels (ties to the lower class) or p >= 0.5 for one sigmoid channel; pixels where `liver` (if not null,
// [H, W]) is 0 are background, as the reference multiplies the probabilities by the liver mask.
std::vector<uint8_t> predicted_mask(const Tensor& out, int64_t sample, const uint8_t* liver);

class SampleGrid {
 public:
  // Up to `count` positions of `validation` (a validation dataset, epoch order = positives()).
  SampleGrid(const Dataset& validation, int count = 6);
  bool wants(int64_t position) const;
  const std::vector<int64_t>& positions() const { return positions_; }
  bool has(int64_t position) const;  // a row for `position` was added since clear()
  // Sample 0 of `batch` is the one at `position`; `prediction` its predicted_mask.
  void add(int64_t position, const Batch& batch, const std::vector<uint8_t>& prediction);
  // One PNG of every added row, in position order (tiles at most 256 pixels high: larger slices are
  // sampled every k-th pixel).
  void write(const std::string& path) const;
  void clear() { rows_.clear(); }

 private:
  struct Row {
    int64_t position, h, w;
    std::vector<uint8_t> input, truth, prediction;
  };
  std::vector<int64_t> positions_;
  std::vector<Row> rows_;
};

}  // namespace lits
