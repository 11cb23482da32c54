// Loading run folders and the ensemble's slice-batch inference (see inference.h).
#include "pipeline/infer/inference.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "pipeline/data/convert.h"
#include "pipeline/data/split.h"
#include "pipeline/infer/orientation.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/run_folder.h"

namespace fs = std::filesystem;

namespace lits {

LoadedModel load_model(const std::string& dir, Device device, bool bn_batch_stats, const std::string& which) {
  LITS_CHECK(which == "best" || which == "latest", "checkpoint '" << which << "' (expected best or latest)");
  LITS_CHECK(fs::is_directory(dir), "model '" << dir << "' is not a folder (expected a run folder of `lits train`)");
  LoadedModel m;
  m.dir = dir;
  m.setup = read_run_setup(dir);
  const std::string best = (fs::path(dir) / ("checkpoint_" + which)).string();
  LITS_CHECK(fs::exists(best + ".safetensors"), "model '" << dir << "' has no checkpoint_" << which
                                                          << ".safetensors (has its training finished an epoch?)");
  UNetConfig config = unet_config_from(m.setup);
  m.gen = std::make_unique<Generator>(0);
  m.net = std::make_unique<UNet>(config, *m.gen);
  load_module_state(*m.net, load_checkpoint(best).model, best);
  m.net->to(device);
  m.net->train(bn_batch_stats);
  const char* fused = std::getenv("LITS_FUSED");
  const bool allowed = fused == nullptr || std::string(fused) != "0";
  if (allowed && device.is_cpu() && !bn_batch_stats && FusedUNet::unsupported(*m.net).empty())
    m.fused = std::make_unique<FusedUNet>(*m.net);
  m.channels = static_cast<int>(config.channels);
  m.standardize = !m.setup.get<bool>("no_standardize");
  m.divisor = m.net->size_divisor();
  m.input_table = hu_input_table(m.standardize);
  // Optional: run folders of older versions lack it, and then no spacing is checked.
  const Json run_config = read_json_file((fs::path(dir) / "config.json").string());
  if (const Json* t = run_config.find("training_spacing_mm"); t != nullptr && t->items.size() == 2)
    m.training_spacing = {t->items[0].number, t->items[1].number};
  return m;
}

SliceVolume read_slice_volume(const std::string& path, NiftiGeometry* geometry, std::array<int, 3>* axial) {
  NiftiVolume v = read_nifti(path);
  if (geometry != nullptr) *geometry = v.geometry;
  std::array<int64_t, 3> dims = v.geometry.dims;
  if (axial != nullptr) {
    *axial = axial_axis_order(v.geometry, path);
    v.values = reorder_axes(v.values, dims, *axial);
    dims = reordered_dims(dims, *axial);
  }
  SliceVolume s;
  s.depth = dims[2];
  s.height = dims[0];
  s.width = dims[1];
  s.image = store_image_from_nifti(v.values, dims);
  return s;
}

namespace {

void check_inputs(const std::vector<LoadedModel>& models, const SliceVolume& v) {
  LITS_CHECK(!models.empty(), "segment: no models");
  LITS_CHECK(static_cast<int64_t>(v.image.size()) == v.depth * v.height * v.width,
             "segment: volume data does not match its size");
  for (const LoadedModel& m : models)
    LITS_CHECK(v.depth > m.channels / 2, "segment: a volume of " << v.depth << " slices is too thin for model '"
                                                                 << m.dir << "' (" << m.channels << " channels)");
}

}  // namespace

namespace {

// Slice pixel (r, q) seen through an in-plane mirror (`flips` bit 0: columns, bit 1: rows); a mirror is its
// own inverse, so the same map takes the output back.
struct Mirror {
  int64_t h, w;
  int flips;
  int64_t at(int64_t r, int64_t q) const { return ((flips & 2) ? h - 1 - r : r) * w + ((flips & 1) ? w - 1 - q : q); }
};

// One model's foreground probability of slices first .. first + b - 1, mirrored by `m` on the way in and
// back on the way out, at full or half resolution, added to `sum` [b, H, W].
void add_model_probability(const LoadedModel& model, const SliceVolume& v, int64_t first, int64_t b, Device device,
                           const Mirror& m, bool half, bool graphs, std::vector<float>& sum) {
  const int64_t hw = v.height * v.width;
  const int64_t h = half ? (v.height + 1) / 2 : v.height, w = half ? (v.width + 1) / 2 : v.width;
  const std::vector<float>& table = model.input_table;
  Tensor x = Tensor::empty({b, model.channels, h, w});
  float* px = x.data<float>();
  for (int64_t s = 0; s < b; ++s) {
    const std::vector<int64_t> stack = channel_slices(first + s, v.depth, model.channels);
    for (int c = 0; c < model.channels; ++c) {
      const int16_t* src = v.image.data() + stack[static_cast<size_t>(c)] * hw;
      float* dst = px + (s * model.channels + c) * h * w;
      if (!half) {
        for (int64_t r = 0; r < h; ++r)
          for (int64_t q = 0; q < w; ++q) dst[r * w + q] = table[static_cast<size_t>(src[m.at(r, q)] + 32768)];
        continue;
      }
      // Half resolution: the mean of each 2 x 2 block of windowed values (the blocks that exist at an odd edge).
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q) {
          float acc = 0.0f;
          int n = 0;
          for (int64_t dr = 0; dr < 2 && 2 * r + dr < v.height; ++dr)
            for (int64_t dq = 0; dq < 2 && 2 * q + dq < v.width; ++dq, ++n)
              acc += table[static_cast<size_t>(src[m.at(2 * r + dr, 2 * q + dq)] + 32768)];
          dst[r * w + q] = acc / static_cast<float>(n);
        }
    }
  }
  // Padded with air to the size divisor (models/unet.h, as validation pads), the output cropped back.
  const double air = table[32768 - 1024];
  Tensor out;
  if (model.fused) {
    out = crop_to(model.fused->run(pad_to_multiple(x, model.divisor, air)), h, w);
  } else if (graphs && device.is_cuda() && !model.net->is_training()) {
    if (!model.graphed) model.graphed = std::make_shared<GraphedForward>(*model.net);
    out = model.graphed->run(x, air);
  } else {
    out = model.net->run_padded(x.to(device), air).out;
  }
  const UNetConfig& cfg = model.net->config();
  if (cfg.output_logits) out = cfg.num_out_classes == 1 ? sigmoid(out) : softmax(out);
  const int64_t k = out.shape()[1];
  const Tensor fg = contiguous(narrow(out, 1, k - 1, 1).to(Device::cpu()));  // [b, 1, h, w]
  const float* pf = fg.data<float>();
  for (int64_t s = 0; s < b; ++s) {
    const float* p = pf + s * h * w;
    float* acc = sum.data() + s * hw;
    if (!half) {
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q) acc[m.at(r, q)] += p[r * w + q];
      continue;
    }
    // Bilinear upsampling by 2 (pixel centres: full-resolution r sits at (r + 0.5) / 2 - 0.5, clamped).
    for (int64_t r = 0; r < v.height; ++r) {
      const double y = std::clamp((static_cast<double>(r) + 0.5) / 2.0 - 0.5, 0.0, static_cast<double>(h - 1));
      const int64_t r0 = static_cast<int64_t>(y), r1 = std::min(r0 + 1, h - 1);
      const double fy = y - static_cast<double>(r0);
      for (int64_t q = 0; q < v.width; ++q) {
        const double xq = std::clamp((static_cast<double>(q) + 0.5) / 2.0 - 0.5, 0.0, static_cast<double>(w - 1));
        const int64_t q0 = static_cast<int64_t>(xq), q1 = std::min(q0 + 1, w - 1);
        const double fx = xq - static_cast<double>(q0);
        const double top = p[r0 * w + q0] * (1 - fx) + p[r0 * w + q1] * fx;
        const double bottom = p[r1 * w + q0] * (1 - fx) + p[r1 * w + q1] * fx;
        acc[m.at(r, q)] += static_cast<float>(top * (1 - fy) + bottom * fy);
      }
    }
  }
}

}  // namespace

std::vector<float> ensemble_probability(const std::vector<LoadedModel>& models, const SliceVolume& v, int64_t first,
                                        int64_t b, Device device, const InferenceOptions& options) {
  check_inputs(models, v);
  LITS_CHECK(first >= 0 && b >= 1 && first + b <= v.depth,
             "segment: slices " << first << " .. " << first + b - 1 << " of a volume of " << v.depth);
  NoGradGuard no_grad;
  std::vector<float> sum(static_cast<size_t>(b * v.height * v.width), 0.0f);
  const int mirrors = options.tta ? 4 : 1;  // none, columns, rows, both
  for (const LoadedModel& m : models)
    for (int f = 0; f < mirrors; ++f)
      add_model_probability(m, v, first, b, device, Mirror{v.height, v.width, f}, options.half_resolution,
                            options.cuda_graphs, sum);
  const float n = static_cast<float>(models.size() * static_cast<size_t>(mirrors));
  for (float& p : sum) p /= n;
  return sum;
}

std::vector<uint8_t> segment_slices(const std::vector<LoadedModel>& models, const SliceVolume& v, int64_t z0,
                                    int64_t z1, int64_t batch, Device device, const std::vector<uint8_t>* liver,
                                    const std::function<void(int64_t, int64_t)>& progress,
                                    const InferenceOptions& options, std::vector<uint16_t>* probability) {
  check_inputs(models, v);
  LITS_CHECK(batch >= 1, "segment: batch " << batch << " (expected 1 or more)");
  const int64_t hw = v.height * v.width;
  std::vector<uint8_t> mask(static_cast<size_t>(v.depth * hw), 0);
  if (probability != nullptr) probability->assign(mask.size(), 0);
  z0 = std::max<int64_t>(z0, 0);
  z1 = std::min<int64_t>(z1, v.depth - 1);
  if (z1 < z0) return mask;
  const int64_t total = z1 - z0 + 1;
  for (int64_t first = z0; first <= z1; first += batch) {
    const int64_t b = std::min(batch, z1 - first + 1);
    const std::vector<float> p = ensemble_probability(models, v, first, b, device, options);
    for (int64_t q = 0; q < b * hw; ++q) {
      const size_t at = static_cast<size_t>(first * hw + q);
      const float pq = p[static_cast<size_t>(q)];
      mask[at] = (liver == nullptr || (*liver)[at] != 0) && pq > 0.5f;
      if (probability != nullptr)
        (*probability)[at] = static_cast<uint16_t>(std::lround(std::clamp(pq, 0.0f, 1.0f) * kProbabilityScale));
    }
    if (progress) progress(first + b - z0, total);
  }
  return mask;
}

}  // namespace lits
