// Folder-level liver segmentation and lesion submission (see segment.h).
#include "pipeline/infer/segment.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "engine/error.h"
#include "pipeline/data/convert.h"
#include "pipeline/infer/inference.h"
#include "pipeline/infer/postprocess.h"
#include "pipeline/io/nifti.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool is_nifti_name(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".nii") || ends(".nii.gz");
}

// Files whose name holds `word` and ends in .nii / .nii.gz, ordered by their number.
std::vector<fs::path> find_volumes(const std::string& dir, const std::string& word, const char* what) {
  LITS_CHECK(fs::is_directory(dir), what << " folder '" << dir << "' does not exist or is not a folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    // Not e.is_regular_file(): it throws on a symbolic link loop. A name that looks like a volume is
    // taken whatever it is, so that reading it says what is wrong with that file.
    std::error_code ec;
    if (e.is_directory(ec) || !is_nifti_name(name) || name.find(word) == std::string::npos) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    const int64_t na = file_number(a.filename().string()), nb = file_number(b.filename().string());
    return na != nb ? na < nb : a.filename() < b.filename();
  });
  return files;
}

std::vector<LoadedModel> load_models(const SegmentOptions& o, Device device) {
  LITS_CHECK(!o.models.empty(), "no --model given (a run folder of `lits train`)");
  std::vector<LoadedModel> models;
  for (const std::string& dir : o.models) models.push_back(load_model(dir, device, o.bn_batch_stats));
  return models;
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

int64_t file_number(const std::string& name) {
  std::string stem = name;
  for (const char* ext : {".nii.gz", ".nii"})
    if (stem.ends_with(ext)) stem.resize(stem.size() - std::string(ext).size());
  size_t end = stem.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(stem[end - 1]))) --end;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  if (begin == end || end - begin > 9) return -1;
  return std::stoll(stem.substr(begin, end - begin));
}

SegmentReport segment_liver(const SegmentOptions& o, const VolumeProgress& progress,
                            const SliceProgress& slice_progress) {
  const Device device = parse_device(o.device);
  const std::vector<fs::path> files = find_volumes(o.volumes, "volume", "volumes");
  LITS_CHECK(!files.empty(), "no *volume*.nii[.gz] files in '" << o.volumes << "'");
  const std::vector<LoadedModel> models = load_models(o, device);
  return for_each_volume(o, files, progress, [&](const fs::path& file, VolumeOutcome& r, double& seconds) {
    NiftiGeometry g;
    const SliceVolume v = read_slice_volume(file.string(), &g);
    r.slices = v.depth;
    const auto t0 = Clock::now();
    std::vector<uint8_t> mask = segment_slices(models, v, 0, v.depth - 1, o.batch, device, nullptr, slice_progress);
    seconds = since(t0);
    r.segmented_slices = v.depth;
    const VolumeDims dims{v.depth, v.height, v.width};
    mask = postprocess_liver(mask, dims);
    std::tie(r.z0, r.z1) = slice_range(mask, dims);
    r.liver_voxels = std::count(mask.begin(), mask.end(), uint8_t{1});
    std::string name = file.filename().string();
    name.replace(name.find("volume"), 6, "liver");
    r.output = (fs::path(o.out) / name).string();
    write_nifti_mask(r.output, g, nifti_mask_from_store(mask, g.dims));
  });
}

SegmentReport submit_lesions(const SegmentOptions& o, const VolumeProgress& progress,
                             const SliceProgress& slice_progress) {
  const Device device = parse_device(o.device);
  const std::vector<fs::path> files = find_volumes(o.volumes, "volume", "volumes");
  LITS_CHECK(!files.empty(), "no *volume*.nii[.gz] files in '" << o.volumes << "'");
  const std::vector<fs::path> livers = find_volumes(o.liver, "liver", "liver masks");
  const std::vector<LoadedModel> models = load_models(o, device);
  return for_each_volume(o, files, progress, [&](const fs::path& file, VolumeOutcome& r, double& seconds) {
    const int64_t number = file_number(file.filename().string());
    LITS_CHECK(number >= 0, file.string() << ": no number in the file name (expected test-volume-N.nii[.gz])");
    auto it = std::find_if(livers.begin(), livers.end(),
                           [&](const fs::path& p) { return file_number(p.filename().string()) == number; });
    LITS_CHECK(it != livers.end(), file.string() << ": no liver mask numbered " << number << " in '" << o.liver
                                                 << "' (run `lits segment` first)");
    NiftiGeometry g;
    const SliceVolume v = read_slice_volume(file.string(), &g);
    r.slices = v.depth;
    const NiftiGeometry lg = read_nifti_geometry(it->string());
    LITS_CHECK(lg.dims == g.dims, it->string() << ": liver mask of dims " << lg.dims[0] << " x " << lg.dims[1] << " x "
                                               << lg.dims[2] << " for a volume of " << g.dims[0] << " x " << g.dims[1]
                                               << " x " << g.dims[2]);
    std::vector<uint8_t> liver = store_mask_from_nifti(read_nifti_labels(it->string()), g.dims);
    for (uint8_t& x : liver) x = x != 0;
    const VolumeDims dims{v.depth, v.height, v.width};
    std::tie(r.z0, r.z1) = slice_range(liver, dims);
    const auto t0 = Clock::now();
    std::vector<uint8_t> labels =
        segment_slices(models, v, r.z0, r.z1, o.batch, device, &liver, slice_progress);  // 0 where z1 < z0
    seconds = since(t0);
    r.segmented_slices = r.z1 >= r.z0 ? r.z1 - r.z0 + 1 : 0;
    for (size_t p = 0; p < labels.size(); ++p) labels[p] = static_cast<uint8_t>(liver[p] + labels[p]);
    r.liver_voxels = std::count_if(labels.begin(), labels.end(), [](uint8_t x) { return x >= 1; });
    r.lesion_voxels = std::count(labels.begin(), labels.end(), uint8_t{2});
    r.output = (fs::path(o.out) / ("test-segmentation-" + std::to_string(number) + ".nii")).string();
    write_nifti_mask(r.output, g, nifti_mask_from_store(labels, g.dims));
  });
}

}  // namespace lits
