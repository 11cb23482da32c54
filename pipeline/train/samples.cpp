// Sample images (see samples.h).
#include "pipeline/train/samples.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "pipeline/io/png.h"

namespace lits {

std::vector<uint8_t> predicted_mask(const Tensor& out, int64_t sample, const uint8_t* liver) {
  const int64_t k = out.shape()[1], hw = out.shape()[2] * out.shape()[3];
  const float* o = out.data<float>() + sample * k * hw;
  std::vector<uint8_t> mask(static_cast<size_t>(hw));
  for (int64_t p = 0; p < hw; ++p) {
    bool fg;
    if (k == 1) {
      fg = o[p] >= 0.5f;
    } else {
      int64_t best = 0;
      for (int64_t c = 1; c < k; ++c)
        if (o[c * hw + p] > o[best * hw + p]) best = c;
      fg = best >= 1;
    }
    mask[static_cast<size_t>(p)] = fg && (liver == nullptr || liver[p] != 0);
  }
  return mask;
}

SliceView radiological_view(const std::string& orientation) {
  // 0: left-right, 1: anterior-posterior, 2: superior-inferior, -1: unknown.
  auto pair_of = [](char c) {
    switch (c) {
      case 'R':
      case 'L': return 0;
      case 'A':
      case 'P': return 1;
      case 'S':
      case 'I': return 2;
      default: return -1;
    }
  };
  std::string o = orientation;
  if (o.size() < 2 || pair_of(o[0]) < 0 || pair_of(o[1]) < 0 || pair_of(o[0]) == pair_of(o[1])) o = "RAS";
  const int pi = pair_of(o[0]), pj = pair_of(o[1]);
  // The columns follow the left-right axis when it lies in the slice, else (sagittal) the anterior-posterior.
  const bool columns_along_i = pi == 0 || (pj != 0 && pi == 1);
  const char column = columns_along_i ? o[0] : o[1], row = columns_along_i ? o[1] : o[0];
  SliceView v;
  v.transpose = columns_along_i;
  v.flip_cols = column == 'R' || column == 'A';  // columns run toward the patient's left (or posterior)
  v.flip_rows = row == 'A' || row == 'S';        // rows run toward posterior (or inferior)
  return v;
}

std::vector<uint8_t> view_plane(const std::vector<uint8_t>& plane, int64_t h, int64_t w, const SliceView& view) {
  LITS_CHECK(static_cast<int64_t>(plane.size()) == h * w,
             "view_plane: " << plane.size() << " pixels for " << h << " x " << w);
  const int64_t dh = view.transpose ? w : h, dw = view.transpose ? h : w;
  std::vector<uint8_t> out(plane.size());
  for (int64_t r = 0; r < dh; ++r)
    for (int64_t c = 0; c < dw; ++c) {
      const int64_t rr = view.flip_rows ? dh - 1 - r : r, cc = view.flip_cols ? dw - 1 - c : c;
      const int64_t i = view.transpose ? cc : rr, j = view.transpose ? rr : cc;
      out[static_cast<size_t>(r * dw + c)] = plane[static_cast<size_t>(i * w + j)];
    }
  return out;
}

namespace {

constexpr const char* kTitles[4] = {"CT", "TRUTH", "PREDICTION", "OVERLAY"};
constexpr const char* kLegend[3] = {"BOTH", "TRUTH ONLY", "PREDICTION ONLY"};
constexpr int64_t kMargin = 6, kGap = 4;

int64_t line_height(int scale) { return Canvas::text_height(scale) + 4; }

// Legend items: a swatch as high as the text, a space, the words; items apart by two characters.
int64_t legend_width(int scale) {
  int64_t width = 0;
  for (const char* item : kLegend) width += (width ? 12 * scale : 0) + 11 * scale + Canvas::text_width(item, scale);
  return width;
}

uint8_t mean_up(uint8_t a, uint8_t b) { return static_cast<uint8_t>((a + b + 1) / 2); }

}  // namespace

SampleLayout sample_layout(const std::vector<SampleRow>& rows) {
  LITS_CHECK(!rows.empty(), "sample image: no rows");
  SampleLayout l;
  int64_t widest = 0;
  for (const SampleRow& r : rows) widest = std::max(widest, r.w);
  l.scale = widest >= 160 ? 2 : 1;
  l.column_width = widest;
  for (const char* t : kTitles) l.column_width = std::max(l.column_width, Canvas::text_width(t, l.scale));
  int64_t content = 4 * l.column_width + 3 * kGap;
  content = std::max(content, legend_width(l.scale));
  for (const SampleRow& r : rows) content = std::max(content, Canvas::text_width(r.caption, l.scale));
  l.width = 2 * kMargin + content;
  for (int t = 0; t < 4; ++t) l.column_x[static_cast<size_t>(t)] = kMargin + t * (l.column_width + kGap);
  int64_t y = kMargin + line_height(l.scale);  // under the titles
  for (const SampleRow& r : rows) {
    l.caption_y.push_back(y);
    l.tile_y.push_back(y + line_height(l.scale));
    y += line_height(l.scale) + r.h + 6;
  }
  l.legend_y = y;
  l.height = y + Canvas::text_height(l.scale) + kMargin;
  return l;
}

Canvas draw_samples(const std::vector<SampleRow>& rows) {
  const SampleLayout l = sample_layout(rows);
  Canvas canvas(l.width, l.height, kSampleBackground);
  for (size_t t = 0; t < 4; ++t)
    canvas.text(l.column_x[t] + (l.column_width - Canvas::text_width(kTitles[t], l.scale)) / 2, kMargin, kTitles[t],
                kSampleText, l.scale);
  for (size_t n = 0; n < rows.size(); ++n) {
    const SampleRow& r = rows[n];
    LITS_CHECK(static_cast<int64_t>(r.ct.size()) == r.h * r.w && r.truth.size() == r.ct.size() &&
                   r.prediction.size() == r.ct.size(),
               "sample image: row '" << r.caption << "' is not " << r.h << " x " << r.w << " in every tile");
    canvas.text(kMargin, l.caption_y[n], r.caption, kSampleText, l.scale);
    const int64_t inset = (l.column_width - r.w) / 2;  // tiles centred in their column
    for (int64_t y = 0; y < r.h; ++y)
      for (int64_t x = 0; x < r.w; ++x) {
        const size_t p = static_cast<size_t>(y * r.w + x);
        const uint8_t g = r.ct[p], mask_t = r.truth[p] ? 255 : 0, mask_p = r.prediction[p] ? 255 : 0;
        Rgb over{g, g, g};
        if (r.truth[p] || r.prediction[p]) {
          const Rgb c = !r.prediction[p] ? kOverlayTruthOnly : !r.truth[p] ? kOverlayPredictionOnly : kOverlayBoth;
          over = {mean_up(g, c.r), mean_up(g, c.g), mean_up(g, c.b)};
        }
        const int64_t py = l.tile_y[n] + y;
        canvas.set(l.column_x[0] + inset + x, py, {g, g, g});
        canvas.set(l.column_x[1] + inset + x, py, {mask_t, mask_t, mask_t});
        canvas.set(l.column_x[2] + inset + x, py, {mask_p, mask_p, mask_p});
        canvas.set(l.column_x[3] + inset + x, py, over);
      }
  }
  int64_t x = kMargin;
  const Rgb swatches[3] = {kOverlayBoth, kOverlayTruthOnly, kOverlayPredictionOnly};
  for (int k = 0; k < 3; ++k) {
    canvas.fill(x, l.legend_y, 7 * l.scale, 7 * l.scale, swatches[k]);
    canvas.text(x + 11 * l.scale, l.legend_y, kLegend[k], kSampleText, l.scale);
    x += 11 * l.scale + Canvas::text_width(kLegend[k], l.scale) + 12 * l.scale;
  }
  return canvas;
}

SampleGrid::SampleGrid(const Dataset& validation, int count) {
  const std::vector<SampleRef> samples = validation.epoch_samples(0);
  std::vector<int64_t> showing;
  for (size_t i = 0; i < samples.size(); ++i) {
    const StoreEntry& e = validation.store().entry(samples[i].volume);
    const auto& flags = validation.options().task == DataTask::kLiver ? e.liver : e.lesion;
    if (flags[static_cast<size_t>(samples[i].slice)]) showing.push_back(static_cast<int64_t>(i));
  }
  if (showing.empty())  // no target anywhere: show evenly spaced slices anyway
    for (size_t i = 0; i < samples.size(); ++i) showing.push_back(static_cast<int64_t>(i));
  const int64_t n = std::min<int64_t>(count, static_cast<int64_t>(showing.size()));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t position = showing[static_cast<size_t>((2 * i + 1) * static_cast<int64_t>(showing.size()) / (2 * n))];
    const SampleRef& ref = samples[static_cast<size_t>(position)];
    const StoreEntry& e = validation.store().entry(ref.volume);
    positions_.push_back(position);
    captions_.push_back(e.name + " slice " + std::to_string(ref.slice));
    views_.push_back(radiological_view(e.orientation));
  }
}

bool SampleGrid::wants(int64_t position) const {
  return std::find(positions_.begin(), positions_.end(), position) != positions_.end();
}

bool SampleGrid::has(int64_t position) const {
  return std::find(row_positions_.begin(), row_positions_.end(), position) != row_positions_.end();
}

void SampleGrid::add(int64_t position, const Batch& batch, const std::vector<uint8_t>& prediction) {
  const auto at = std::find(positions_.begin(), positions_.end(), position);
  LITS_CHECK(at != positions_.end(), "sample image: position " << position << " is not one of the grid's");
  const size_t slot = static_cast<size_t>(at - positions_.begin());
  const int64_t c = batch.input.shape()[1], h = batch.input.shape()[2], w = batch.input.shape()[3];
  const int64_t step = std::max<int64_t>(1, (std::max(h, w) + 255) / 256);
  const int64_t sh = (h + step - 1) / step, sw = (w + step - 1) / step;
  const float* in = batch.input.data<float>() + (c / 2) * h * w;  // the centre slice
  const int64_t* truth = batch.target.data<int64_t>();
  float lo = in[0], hi = in[0];
  for (int64_t p = 0; p < h * w; ++p) lo = std::min(lo, in[p]), hi = std::max(hi, in[p]);
  std::vector<uint8_t> ct, mask_t, mask_p;  // store order, every step-th pixel
  for (int64_t r = 0; r < h; r += step)
    for (int64_t q = 0; q < w; q += step) {
      const int64_t p = r * w + q;
      ct.push_back(static_cast<uint8_t>(hi > lo ? std::lround(255.0 * (in[p] - lo) / (hi - lo)) : 0));
      mask_t.push_back(truth[p] ? 1 : 0);
      mask_p.push_back(prediction[static_cast<size_t>(p)] ? 1 : 0);
    }
  const SliceView& view = views_[slot];
  SampleRow row;
  row.caption = captions_[slot];
  row.h = view.transpose ? sw : sh;
  row.w = view.transpose ? sh : sw;
  row.ct = view_plane(ct, sh, sw, view);
  row.truth = view_plane(mask_t, sh, sw, view);
  row.prediction = view_plane(mask_p, sh, sw, view);
  rows_.push_back(std::move(row));
  row_positions_.push_back(position);
}

void SampleGrid::write(const std::string& path) const {
  if (rows_.empty()) return;
  std::vector<size_t> order(rows_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return row_positions_[a] < row_positions_[b]; });
  std::vector<SampleRow> sorted;
  for (const size_t i : order) sorted.push_back(rows_[i]);
  const Canvas canvas = draw_samples(sorted);
  write_png_rgb(path, canvas.width(), canvas.height(), canvas.pixels());
}

}  // namespace lits
