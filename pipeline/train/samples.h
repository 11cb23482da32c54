// Sample images of a run (docs/reference.md section 6.6, as an RGB PNG): a few validation slices, one row
// each, under the column titles CT, TRUTH, PREDICTION and OVERLAY: the input's centre slice (grey, stretched
// to its own minimum and maximum), the true mask, the predicted mask, and the prediction against the truth
// blended over the CT (both green, truth only magenta, prediction only yellow; a legend line at the bottom).
// Each row has a caption with the case (the store volume's name) and the slice index. The slices are fixed
// for a run (evenly spaced among the validation slices that show the target), so images of different epochs
// compare.
//
// Orientation: the store keeps the NIfTI layout (slice k is A[i][j] = voxel (i, j, k), rows = NIfTI i), which
// shows an axial slice transposed. The tiles are turned to the radiological convention from each volume's
// orientation code (StoreEntry::orientation, from its affine): rows run anterior to posterior, and the
// patient's right is on the viewer's left.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "pipeline/data/dataset.h"
#include "pipeline/data/loader.h"
#include "pipeline/train/canvas.h"

namespace lits {

// The network's decision per pixel of sample `sample` of `out` (host float32 [B, K, H, W]): the argmax over
// channels (ties to the lower class) or p >= 0.5 for one sigmoid channel; pixels where `liver` (if not null,
// [H, W]) is 0 are background, as the reference multiplies the probabilities by the liver mask.
std::vector<uint8_t> predicted_mask(const Tensor& out, int64_t sample, const uint8_t* liver);

// How a store slice (rows = NIfTI i, columns = NIfTI j) is shown: display pixel (r, c) is store pixel
// (i, j) = (c', r') when `transpose`, else (r', c'), where r' = r or the row counted from the bottom
// (`flip_rows`) and c' = c or the column counted from the right (`flip_cols`).
struct SliceView {
  bool transpose = false, flip_rows = false, flip_cols = false;
  bool operator==(const SliceView&) const = default;
};

// The radiological view of a slice of a volume whose voxel axes point to `orientation` (three RAS+ letters
// as NiftiGeometry::orientation spells them, "RAS", "LPS", ...): of the slice's two axes, the left-right one
// runs along the columns, the patient's right on the left, and the other along the rows, anterior (or
// superior) at the top; a sagittal slice shows anterior on the left. A code without a usable in-plane pair
// ('?', or empty) is taken as "RAS", NIfTI's reading of a file without an affine.
SliceView radiological_view(const std::string& orientation);

// `plane` ([h, w] in store order) as `view` shows it; its display size is (w, h) when transposed.
std::vector<uint8_t> view_plane(const std::vector<uint8_t>& plane, int64_t h, int64_t w, const SliceView& view);

// One row of the image, in display order: CT grey levels, 0/1 masks, each [h, w].
struct SampleRow {
  std::string caption;
  int64_t h = 0, w = 0;
  std::vector<uint8_t> ct, truth, prediction;
};

// Where draw_samples puts things.
struct SampleLayout {
  int64_t width = 0, height = 0;
  int scale = 1;                      // of the 5 x 7 font: 2 when the widest tile has 160 pixels or more
  int64_t column_width = 0;           // the widest tile or column title
  std::array<int64_t, 4> column_x{};  // left edges: CT, truth, prediction, overlay
  std::vector<int64_t> caption_y;     // per row: the top of its caption's text
  std::vector<int64_t> tile_y;        // per row: the top of its tiles
  int64_t legend_y = 0;               // the top of the legend's text
};
SampleLayout sample_layout(const std::vector<SampleRow>& rows);
// Colours of draw_samples.
inline constexpr Rgb kSampleBackground{40, 40, 40}, kSampleText{235, 235, 235};
inline constexpr Rgb kOverlayBoth{0, 255, 0}, kOverlayTruthOnly{255, 0, 255}, kOverlayPredictionOnly{255, 255, 0};
// The image of `rows` (at least one): titles, then per row its caption and its four tiles, then the legend.
// An overlay pixel is the mean of its CT grey and its colour (rounded up), or the CT grey without a mask.
Canvas draw_samples(const std::vector<SampleRow>& rows);

class SampleGrid {
 public:
  // Up to `count` positions of `validation` (a validation dataset, epoch order = positives()).
  SampleGrid(const Dataset& validation, int count = 6);
  bool wants(int64_t position) const;
  const std::vector<int64_t>& positions() const { return positions_; }
  bool has(int64_t position) const;  // a row for `position` was added since clear()
  // Sample 0 of `batch` is the one at `position` (one of positions()); `prediction` its predicted_mask.
  // Tiles are at most 256 pixels high and wide: larger slices are sampled every k-th pixel.
  void add(int64_t position, const Batch& batch, const std::vector<uint8_t>& prediction);
  // The added rows, in the order added.
  const std::vector<SampleRow>& rows() const { return rows_; }
  // One PNG (draw_samples) of every added row, in position order; nothing without rows.
  void write(const std::string& path) const;
  void clear() {
    rows_.clear();
    row_positions_.clear();
  }

 private:
  std::vector<int64_t> positions_;
  std::vector<std::string> captions_;  // per position: "<volume name> slice <k>"
  std::vector<SliceView> views_;       // per position
  std::vector<SampleRow> rows_;
  std::vector<int64_t> row_positions_;  // per row
};

}  // namespace lits
