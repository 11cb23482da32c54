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
  for (int64_t i = 0; i < n; ++i)
    positions_.push_back(showing[static_cast<size_t>((2 * i + 1) * static_cast<int64_t>(showing.size()) / (2 * n))]);
}

bool SampleGrid::wants(int64_t position) const {
  return std::find(positions_.begin(), positions_.end(), position) != positions_.end();
}

bool SampleGrid::has(int64_t position) const {
  return std::any_of(rows_.begin(), rows_.end(), [&](const Row& r) { return r.position == position; });
}

void SampleGrid::add(int64_t position, const Batch& batch, const std::vector<uint8_t>& prediction) {
  const int64_t c = batch.input.shape()[1], h = batch.input.shape()[2], w = batch.input.shape()[3];
  const int64_t step = std::max<int64_t>(1, (std::max(h, w) + 255) / 256);
  Row row{position, (h + step - 1) / step, (w + step - 1) / step, {}, {}, {}};
  const float* in = batch.input.data<float>() + (c / 2) * h * w;  // the centre slice
  const int64_t* truth = batch.target.data<int64_t>();
  float lo = in[0], hi = in[0];
  for (int64_t p = 0; p < h * w; ++p) lo = std::min(lo, in[p]), hi = std::max(hi, in[p]);
  for (int64_t r = 0; r < h; r += step)
    for (int64_t q = 0; q < w; q += step) {
      const int64_t p = r * w + q;
      row.input.push_back(static_cast<uint8_t>(hi > lo ? std::lround(255.0 * (in[p] - lo) / (hi - lo)) : 0));
      row.truth.push_back(truth[p] ? 255 : 0);
      row.prediction.push_back(prediction[static_cast<size_t>(p)] ? 255 : 0);
    }
  rows_.push_back(std::move(row));
}

void SampleGrid::write(const std::string& path) const {
  if (rows_.empty()) return;
  const int64_t gap = 4;
  int64_t width = 0, height = 0;
  for (const Row& r : rows_) width = std::max(width, 3 * r.w + 2 * gap), height += r.h + gap;
  std::vector<uint8_t> px(static_cast<size_t>(width * height), 128);
  int64_t top = 0;
  for (const Row& r : rows_) {
    const std::vector<uint8_t>* tiles[3] = {&r.input, &r.truth, &r.prediction};
    for (int t = 0; t < 3; ++t)
      for (int64_t y = 0; y < r.h; ++y)
        std::copy_n(tiles[t]->begin() + y * r.w, r.w, px.begin() + (top + y) * width + t * (r.w + gap));
    top += r.h + gap;
  }
  write_png_gray(path, width, height, px);
}

}  // namespace lits
