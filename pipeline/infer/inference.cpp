// Loading run folders and the ensemble's slice-batch inference (see inference.h).
#include "pipeline/infer/inference.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "pipeline/data/convert.h"
#include "pipeline/data/split.h"
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
  return m;
}

SliceVolume read_slice_volume(const std::string& path, NiftiGeometry* geometry) {
  NiftiVolume v = read_nifti(path);
  if (geometry != nullptr) *geometry = v.geometry;
  SliceVolume s;
  s.depth = v.geometry.dims[2];
  s.height = v.geometry.dims[0];
  s.width = v.geometry.dims[1];
  s.image = store_image_from_nifti(v.values, v.geometry.dims);
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

std::vector<float> ensemble_probability(const std::vector<LoadedModel>& models, const SliceVolume& v, int64_t first,
                                        int64_t b, Device device) {
  check_inputs(models, v);
  LITS_CHECK(first >= 0 && b >= 1 && first + b <= v.depth,
             "segment: slices " << first << " .. " << first + b - 1 << " of a volume of " << v.depth);
  const int64_t hw = v.height * v.width;
  NoGradGuard no_grad;
  std::vector<float> sum(static_cast<size_t>(b * hw), 0.0f);
  for (const LoadedModel& m : models) {
    const std::vector<float>& table = m.input_table;
    Tensor x = Tensor::empty({b, m.channels, v.height, v.width});
    float* px = x.data<float>();
    for (int64_t s = 0; s < b; ++s) {
      const std::vector<int64_t> stack = channel_slices(first + s, v.depth, m.channels);
      for (int c = 0; c < m.channels; ++c) {
        const int16_t* src = v.image.data() + stack[static_cast<size_t>(c)] * hw;
        float* dst = px + (s * m.channels + c) * hw;
        for (int64_t p = 0; p < hw; ++p) dst[p] = table[static_cast<size_t>(src[p] + 32768)];
      }
    }
    // Padded with air to the size divisor (models/unet.h, as validation pads), the output cropped back.
    const double air = table[32768 - 1024];
    Tensor out = m.fused ? crop_to(m.fused->run(pad_to_multiple(x, m.divisor, air)), v.height, v.width)
                         : m.net->run_padded(x.to(device), air).out;
    const UNetConfig& cfg = m.net->config();
    if (cfg.output_logits) out = cfg.num_out_classes == 1 ? sigmoid(out) : softmax(out);
    const int64_t k = out.shape()[1];
    const Tensor fg = contiguous(narrow(out, 1, k - 1, 1).to(Device::cpu()));  // [b, 1, H, W]
    const float* pf = fg.data<float>();
    for (int64_t q = 0; q < b * hw; ++q) sum[static_cast<size_t>(q)] += pf[q];
  }
  const float n = static_cast<float>(models.size());
  for (float& p : sum) p /= n;
  return sum;
}

std::vector<uint8_t> segment_slices(const std::vector<LoadedModel>& models, const SliceVolume& v, int64_t z0,
                                    int64_t z1, int64_t batch, Device device, const std::vector<uint8_t>* liver,
                                    const std::function<void(int64_t, int64_t)>& progress) {
  check_inputs(models, v);
  LITS_CHECK(batch >= 1, "segment: batch " << batch << " (expected 1 or more)");
  const int64_t hw = v.height * v.width;
  std::vector<uint8_t> mask(static_cast<size_t>(v.depth * hw), 0);
  z0 = std::max<int64_t>(z0, 0);
  z1 = std::min<int64_t>(z1, v.depth - 1);
  if (z1 < z0) return mask;
  const int64_t total = z1 - z0 + 1;
  for (int64_t first = z0; first <= z1; first += batch) {
    const int64_t b = std::min(batch, z1 - first + 1);
    const std::vector<float> p = ensemble_probability(models, v, first, b, device);
    for (int64_t q = 0; q < b * hw; ++q) {
      const size_t at = static_cast<size_t>(first * hw + q);
      mask[at] = (liver == nullptr || (*liver)[at] != 0) && p[static_cast<size_t>(q)] > 0.5f;
    }
    if (progress) progress(first + b - z0, total);
  }
  return mask;
}

}  // namespace lits
