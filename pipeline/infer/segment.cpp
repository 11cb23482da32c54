// Folder-level liver segmentation and lesion submission (see segment.h).
#include "pipeline/infer/segment.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "engine/error.h"
#include "pipeline/data/convert.h"
#include "pipeline/infer/case_files.h"
#include "pipeline/infer/inference.h"
#include "pipeline/infer/orientation.h"
#include "pipeline/infer/postprocess.h"
#include "pipeline/io/nifti.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<LoadedModel> load_models(const SegmentOptions& o, Device device) {
  LITS_CHECK(!o.models.empty(), "no --model given (a run folder of `lits train`)");
  std::vector<LoadedModel> models;
  for (const std::string& dir : o.models) models.push_back(load_model(dir, device, o.bn_batch_stats, o.checkpoint));
  return models;
}

// The volume's orientation and whether it was reordered; a warning when its in-plane spacing (as the
// networks see it) is far from a model's training volumes'.
void describe_volume(const std::vector<LoadedModel>& models, const NiftiGeometry& g, const AxisOrder& order,
                     VolumeOutcome& r) {
  r.orientation = g.orientation();
  r.reordered = !is_identity(order);
  const std::array<double, 2> spacing{g.pixdim[static_cast<size_t>(order[0])], g.pixdim[static_cast<size_t>(order[1])]};
  for (const LoadedModel& m : models) {
    const std::string w = spacing_warning(spacing, m.training_spacing);
    if (!w.empty()) {
      r.warnings.push_back(w + " (model '" + m.dir + "')");
      break;
    }
  }
}

template <typename Work>
SegmentReport for_each_volume(const SegmentOptions& o, const std::vector<fs::path>& files,
                              const VolumeProgress& progress, Work&& work) {
  const auto t0 = Clock::now();
  std::error_code ec;
  fs::create_directories(o.out, ec);
  LITS_CHECK(fs::is_directory(o.out), "cannot create the output folder '" << o.out << "': " << ec.message());
  remove_stale_nifti_temporaries(o.out);  // what a segment killed mid-file left behind
  SegmentReport report;
  double net_seconds = 0.0;
  int64_t net_slices = 0;
  for (size_t n = 0; n < files.size(); ++n) {
    VolumeOutcome r;
    r.input = files[n].string();
    const auto tv = Clock::now();
    try {
      double s = 0.0;
      work(files[n], r, s);
      net_seconds += s;
      net_slices += r.segmented_slices;
      r.ok = true;
    } catch (const std::bad_alloc&) {
      r.error = r.input + ": out of memory";
    } catch (const std::exception& e) {
      r.error = e.what();
      if (r.error.find(r.input) == std::string::npos) r.error = r.input + ": " + r.error;
    }
    r.seconds = since(tv);
    report.failures += !r.ok;
    report.volumes.push_back(r);
    if (progress) progress(report.volumes.back(), static_cast<int64_t>(n + 1), static_cast<int64_t>(files.size()));
  }
  report.seconds = since(t0);
  report.slices_per_s = net_seconds > 0 ? static_cast<double>(net_slices) / net_seconds : 0.0;
  return report;
}

}  // namespace

SegmentReport segment_liver(const SegmentOptions& o, const VolumeProgress& progress,
                            const SliceProgress& slice_progress) {
  const Device device = parse_device(o.device);
  const std::vector<fs::path> files = nifti_inputs(o.inputs, "input");
  // Every output is the input's file name in the output folder: refuse up front to write over an input.
  for (const fs::path& f : files) {
    std::error_code ec;
    const fs::path target = fs::path(o.out) / f.filename();
    LITS_CHECK(!fs::exists(target, ec) || !fs::equivalent(target, f, ec),
               "the output folder '" << o.out << "' holds the input '" << f.string()
                                     << "': its mask would overwrite it (outputs take the input's name); choose "
                                        "another output folder");
  }
  const std::vector<LoadedModel> models = load_models(o, device);
  const InferenceOptions io{o.tta, o.fast, o.cuda_graphs};
  return for_each_volume(o, files, progress, [&](const fs::path& file, VolumeOutcome& r, double& seconds) {
    NiftiGeometry g;
    AxisOrder order{};
    const SliceVolume v = read_slice_volume(file.string(), &g, &order);
    describe_volume(models, g, order, r);
    r.slices = v.depth;
    const auto t0 = Clock::now();
    std::vector<uint16_t> probability;
    std::vector<uint8_t> mask = segment_slices(models, v, 0, v.depth - 1, o.batch, device, nullptr, slice_progress, io,
                                               o.save_probabilities ? &probability : nullptr);
    seconds = since(t0);
    r.segmented_slices = v.depth;
    const VolumeDims dims{v.depth, v.height, v.width};
    if (o.postprocess) mask = postprocess_liver(mask, dims);
    std::tie(r.z0, r.z1) = slice_range(mask, dims);
    r.liver_voxels = std::count(mask.begin(), mask.end(), uint8_t{1});
    const std::array<int64_t, 3> axial_dims{v.height, v.width, v.depth};
    const AxisOrder back = inverse_order(order);
    if (o.save_probabilities) {
      const fs::path folder = fs::path(o.out) / "probabilities";
      fs::create_directories(folder);
      const std::string stem = nifti_stem(file.filename().string()), ext = nifti_suffix(file.filename().string());
      std::vector<uint16_t> fg = reorder_axes(nifti_mask_from_store(probability, axial_dims), axial_dims, back);
      std::vector<uint16_t> bg(fg.size());
      for (size_t p = 0; p < fg.size(); ++p) bg[p] = static_cast<uint16_t>(65535 - fg[p]);
      for (const auto& [name, values] :
           {std::pair<const char*, const std::vector<uint16_t>*>{"background", &bg}, {"liver", &fg}}) {
        r.probability_files.push_back((folder / (stem + "_" + name + ext)).string());
        write_nifti_probability(r.probability_files.back(), g, *values);
      }
    }
    r.output = (fs::path(o.out) / file.filename()).string();
    write_nifti_mask(r.output, g, reorder_axes(nifti_mask_from_store(mask, axial_dims), axial_dims, back));
  });
}

SegmentReport submit_lesions(const SegmentOptions& o, const VolumeProgress& progress,
                             const SliceProgress& slice_progress) {
  const Device device = parse_device(o.device);
  const std::vector<fs::path> files = nifti_inputs(o.inputs, "input");
  const std::vector<fs::path> livers = nifti_files_preferring(o.liver, "liver", "liver masks");
  const CasePairing pairing = pair_cases(files, livers);
  // The LiTS name test-segmentation-N.nii where the volumes' numbers tell them apart, else NAME-segmentation.
  std::map<int64_t, int> numbers;
  for (const fs::path& f : files) ++numbers[file_number(f.filename().string())];
  const std::vector<LoadedModel> models = load_models(o, device);
  return for_each_volume(o, files, progress, [&](const fs::path& file, VolumeOutcome& r, double& seconds) {
    const auto pair =
        std::find_if(pairing.pairs.begin(), pairing.pairs.end(), [&](const CasePair& p) { return p.a == file; });
    LITS_CHECK(pair != pairing.pairs.end() && !pair->b.empty(),
               file.string() << ": no liver mask of this case in '" << o.liver << "' (none named "
                             << file.filename().string() << " or numbered " << file_number(file.filename().string())
                             << "; run `lits segment` first)");
    const fs::path liver_file = pair->b;
    NiftiGeometry g;
    AxisOrder order{};
    const SliceVolume v = read_slice_volume(file.string(), &g, &order);
    describe_volume(models, g, order, r);
    r.slices = v.depth;
    const std::array<int64_t, 3> axial_dims{v.height, v.width, v.depth};
    const NiftiGeometry lg = read_nifti_geometry(liver_file.string());
    LITS_CHECK(lg.dims == g.dims, liver_file.string() << ": liver mask of dims " << lg.dims[0] << " x " << lg.dims[1]
                                                      << " x " << lg.dims[2] << " for a volume of " << g.dims[0]
                                                      << " x " << g.dims[1] << " x " << g.dims[2]);
    std::vector<uint8_t> liver =
        store_mask_from_nifti(reorder_axes(read_nifti_labels(liver_file.string()), g.dims, order), axial_dims);
    for (uint8_t& x : liver) x = x != 0;
    const VolumeDims dims{v.depth, v.height, v.width};
    std::tie(r.z0, r.z1) = slice_range(liver, dims);
    const auto t0 = Clock::now();
    std::vector<uint8_t> labels = segment_slices(models, v, r.z0, r.z1, o.batch, device, &liver, slice_progress,
                                                 {o.tta, false, o.cuda_graphs});  // 0: z1 < z0
    seconds = since(t0);
    r.segmented_slices = r.z1 >= r.z0 ? r.z1 - r.z0 + 1 : 0;
    for (size_t p = 0; p < labels.size(); ++p) labels[p] = static_cast<uint8_t>(liver[p] + labels[p]);
    r.liver_voxels = std::count_if(labels.begin(), labels.end(), [](uint8_t x) { return x >= 1; });
    r.lesion_voxels = std::count(labels.begin(), labels.end(), uint8_t{2});
    const int64_t number = file_number(file.filename().string());
    const std::string name = number >= 0 && numbers[number] == 1
                                 ? "test-segmentation-" + std::to_string(number) + ".nii"
                                 : nifti_stem(file.filename().string()) + "-segmentation.nii";
    r.output = (fs::path(o.out) / name).string();
    write_nifti_mask(r.output, g,
                     reorder_axes(nifti_mask_from_store(labels, axial_dims), axial_dims, inverse_order(order)));
  });
}

}  // namespace lits
