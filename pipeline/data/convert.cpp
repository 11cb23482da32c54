// The slice store: input discovery, one volume converted into a temporary folder and swapped into place,
// worker threads across volumes, the store's JSON files (a small writer, and a reader for those files only).
#include "pipeline/data/convert.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/error.h"
#include "pipeline/io/atomic_file.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"
#include "pipeline/io/npy.h"

namespace lits {
namespace {

namespace fs = std::filesystem;

std::string json_flags(const std::vector<uint8_t>& flags) {
  std::string out = "[";
  for (size_t k = 0; k < flags.size(); ++k) out.append(k ? "," : "").push_back(flags[k] ? '1' : '0');
  out.push_back(']');
  return out;
}

std::string entry_json(const StoreEntry& e, const std::string& indent) {
  std::ostringstream o;
  const std::string in = indent + "  ";
  o << "{\n" << in << "\"name\": " << json_string(e.name) << ",\n" << in << "\"sources\": [";
  for (size_t s = 0; s < e.sources.size(); ++s) o << (s ? ", " : "") << json_string(e.sources[s]);
  o << "],\n"
    << in << "\"shape\": [" << e.shape[0] << ", " << e.shape[1] << ", " << e.shape[2] << "],\n"
    << in << "\"spacing_mm\": [" << json_number(e.spacing_mm[0]) << ", " << json_number(e.spacing_mm[1]) << ", "
    << json_number(e.spacing_mm[2]) << "],\n"
    << in << "\"orientation\": " << json_string(e.orientation) << ",\n"
    << in << "\"nifti_datatype\": " << json_string(e.nifti_datatype) << ",\n"
    << in << "\"labels\": " << (e.labels ? "true" : "false") << ",\n"
    << in << "\"weightmaps\": " << json_string(e.weightmaps) << ",\n"
    << in << "\"liver\": " << json_flags(e.liver) << ",\n"
    << in << "\"lesion\": " << json_flags(e.lesion) << ",\n"
    << in << "\"liver_slices\": " << e.liver_slices << ",\n"
    << in << "\"lesion_slices\": " << e.lesion_slices << ",\n"
    << in << "\"liver_voxels\": " << e.liver_voxels << ",\n"
    << in << "\"lesion_voxels\": " << e.lesion_voxels << ",\n"
    << in << "\"bytes\": " << e.bytes << "\n"
    << indent << "}";
  return o.str();
}

const Json& field(const Json& obj, const char* key, Json::Kind kind, const std::string& path) {
  const Json* v = obj.find(key);
  if (v == nullptr || v->kind != kind)
    LITS_THROW("store file '" << path << "': field '" << key << "' missing or of the wrong type");
  return *v;
}

int64_t int_field(const Json& obj, const char* key, const std::string& path) {
  return json_integer(field(obj, key, Json::Kind::kNumber, path),
                      "store file '" + path + "': field '" + std::string(key) + "'");
}

StoreEntry entry_from_json(const Json& j, const std::string& path) {
  LITS_CHECK(j.kind == Json::Kind::kObject, "store file '" << path << "': a volume entry is not an object");
  StoreEntry e;
  e.name = field(j, "name", Json::Kind::kString, path).text;
  for (const Json& s : field(j, "sources", Json::Kind::kArray, path).items) {
    LITS_CHECK(s.kind == Json::Kind::kString, "store file '" << path << "': a source is not a string");
    e.sources.push_back(s.text);
  }
  const Json& shape = field(j, "shape", Json::Kind::kArray, path);
  const Json& spacing = field(j, "spacing_mm", Json::Kind::kArray, path);
  LITS_CHECK(shape.items.size() == 3 && spacing.items.size() == 3,
             "store file '" << path << "': shape and spacing_mm must have 3 elements");
  for (int a = 0; a < 3; ++a) {
    LITS_CHECK(shape.items[a].kind == Json::Kind::kNumber && spacing.items[a].kind == Json::Kind::kNumber,
               "store file '" << path << "': shape and spacing_mm must hold numbers");
    e.shape[a] = json_integer(shape.items[a], "store file '" + path + "': shape");
    e.spacing_mm[a] = spacing.items[a].number;
  }
  e.orientation = field(j, "orientation", Json::Kind::kString, path).text;
  e.nifti_datatype = field(j, "nifti_datatype", Json::Kind::kString, path).text;
  e.labels = field(j, "labels", Json::Kind::kBool, path).boolean;
  e.weightmaps = field(j, "weightmaps", Json::Kind::kString, path).text;
  for (const char* key : {"liver", "lesion"}) {
    std::vector<uint8_t>& flags = key[1] == 'i' ? e.liver : e.lesion;
    for (const Json& f : field(j, key, Json::Kind::kArray, path).items) flags.push_back(f.number != 0.0 ? 1 : 0);
    LITS_CHECK(flags.size() == (e.labels ? static_cast<size_t>(e.shape[0]) : 0u),
               "store file '" << path << "': '" << key << "' has " << flags.size() << " flags for " << e.shape[0]
                              << " slices");
  }
  e.liver_slices = int_field(j, "liver_slices", path);
  e.lesion_slices = int_field(j, "lesion_slices", path);
  e.liver_voxels = int_field(j, "liver_voxels", path);
  e.lesion_voxels = int_field(j, "lesion_voxels", path);
  e.bytes = int_field(j, "bytes", path);
  return e;
}

// ---- discovery ----

struct Job {
  std::string name;  // volume-N or test-volume-N
  int64_t number = 0;
  std::vector<std::string> images, segmentations;
};

// The LiTS files of `dir`, names matched in any letter case (Volume-12.NII.GZ); the other NIfTI files go to
// `ignored`, so that a file of another name is reported instead of skipped without a word.
std::vector<Job> discover(const fs::path& dir, bool test, std::vector<std::string>& ignored) {
  constexpr auto icase = std::regex::ECMAScript | std::regex::icase;
  static const std::regex train_re(R"((volume|segmentation)-(\d{1,9})\.nii(\.gz)?)", icase);
  static const std::regex test_re(R"(test-volume-(\d{1,9})\.nii(\.gz)?)", icase);
  static const std::regex nifti_re(R"(.+\.nii(\.gz)?)", icase);
  std::map<int64_t, Job> jobs;
  ignored.clear();
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string file = f.path().filename().string();
    std::smatch m;
    if (test ? !std::regex_match(file, m, test_re) : !std::regex_match(file, m, train_re)) {
      if (std::regex_match(file, nifti_re)) ignored.push_back(file);
      continue;
    }
    const int64_t n = std::stoll(m[test ? 1 : 2].str());
    Job& job = jobs[n];
    job.number = n;
    job.name = (test ? "test-volume-" : "volume-") + std::to_string(n);
    const bool segmentation = !test && (m[1].str()[0] == 's' || m[1].str()[0] == 'S');
    (segmentation ? job.segmentations : job.images).push_back(fs::absolute(f.path()).lexically_normal().string());
  }
  std::vector<Job> out;
  for (auto& [n, job] : jobs) {
    std::sort(job.images.begin(), job.images.end());
    std::sort(job.segmentations.begin(), job.segmentations.end());
    out.push_back(std::move(job));
  }
  return out;
}

// The reasons a job cannot even start: a missing partner file, or two files for one volume.
std::optional<ConvertFailure> pairing_failure(const Job& job, const fs::path& dir, bool test) {
  const std::string n = std::to_string(job.number);
  if (job.images.size() > 1 || job.segmentations.size() > 1) {
    const auto& two = job.images.size() > 1 ? job.images : job.segmentations;
    std::string reason = "two files for one volume: '";
    reason.append(two[0]).append("' and '").append(two[1]).append("'; expected one .nii or .nii.gz file");
    return ConvertFailure{two[1], reason};
  }
  if (job.images.empty()) {
    std::string reason = "segmentation without its volume: no volume-";
    reason.append(n).append(".nii or .nii.gz in '").append(dir.string()).append("'");
    return ConvertFailure{job.segmentations[0], reason};
  }
  if (!test && job.segmentations.empty()) {
    std::string reason = "volume without its segmentation: no segmentation-";
    reason.append(n).append(".nii or .nii.gz in '").append(dir.string()).append("'");
    return ConvertFailure{job.images[0], reason};
  }
  return std::nullopt;
}

// ---- one volume ----

std::string dims_text(const std::array<int64_t, 3>& d) {
  std::string s = std::to_string(d[0]);
  s.append(" x ").append(std::to_string(d[1])).append(" x ").append(std::to_string(d[2]));
  return s;
}

int64_t folder_bytes(const fs::path& dir) {
  int64_t bytes = 0;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file()) bytes += static_cast<int64_t>(f.file_size());
  return bytes;
}

// Converts one volume into `tmp` (which must not exist yet). `at` is kept pointing at the file being read
// or written, so that the caller can name it when something throws.
StoreEntry convert_volume(const Job& job, const ConvertOptions& options, const fs::path& tmp, std::string& at) {
  const bool labelled = !options.test;
  const std::string& image_path = job.images[0];
  at = image_path;
  const NiftiGeometry g = read_nifti_geometry(image_path);
  if (labelled) {
    at = job.segmentations[0];
    const NiftiGeometry gs = read_nifti_geometry(at);
    if (gs.dims != g.dims)
      LITS_THROW("segmentation '" << at << "' has dims " << dims_text(gs.dims) << " but its volume '" << image_path
                                  << "' has " << dims_text(g.dims) << "; expected the same dims");
  }
  // Store order [D, H, W] = NIfTI (k, i, j): store (k, i, j) <- NIfTI voxel (i, j, k) at (k * nj + j) * ni + i.
  const int64_t ni = g.dims[0], nj = g.dims[1], nk = g.dims[2];
  const VolumeDims dims{nk, ni, nj};
  const std::vector<int64_t> shape{nk, ni, nj};
  const size_t n = static_cast<size_t>(g.voxel_count());
  auto store_index = [&](int64_t i, int64_t j, int64_t k) { return static_cast<size_t>((k * ni + i) * nj + j); };

  StoreEntry e;
  e.name = job.name;
  e.sources = job.images;
  e.sources.insert(e.sources.end(), job.segmentations.begin(), job.segmentations.end());
  e.shape = {nk, ni, nj};
  e.spacing_mm = {g.pixdim[2], g.pixdim[0], g.pixdim[1]};
  e.orientation = g.orientation();
  e.labels = labelled;
  e.weightmaps = labelled ? (options.weightmaps == WeightmapMode::k2d ? "2d" : "3d") : "";
  fs::create_directory(tmp);
  {
    at = image_path;
    NiftiVolume volume = read_nifti(image_path);
    e.nifti_datatype = nifti_type_name(volume.datatype);
    const std::vector<int16_t> image = store_image_from_nifti(volume.values, g.dims);
    volume = NiftiVolume{};  // its float copy is the largest buffer; free it before the next one
    at = (tmp / "image.npy").string();
    write_npy(at, NpyType::kInt16, shape, image.data());
  }
  if (labelled) {
    at = job.segmentations[0];
    std::vector<uint8_t> labels(n);
    {
      const std::vector<uint8_t> raw = read_nifti_labels(at);
      for (int64_t k = 0; k < nk; ++k)
        for (int64_t j = 0; j < nj; ++j)
          for (int64_t i = 0; i < ni; ++i) {
            const uint8_t v = raw[static_cast<size_t>((k * nj + j) * ni + i)];
            if (v > 2)
              LITS_THROW("segmentation '" << at << "': voxel (" << i << ", " << j << ", " << k << ") has label "
                                          << int{v} << "; expected 0 (background), 1 (liver) or 2 (lesion)");
            labels[store_index(i, j, k)] = v;
          }
    }
    e.liver.assign(static_cast<size_t>(nk), 0);
    e.lesion.assign(static_cast<size_t>(nk), 0);
    const size_t plane = static_cast<size_t>(ni * nj);
    for (size_t v = 0; v < n; ++v) {
      if (labels[v] >= 1) ++e.liver_voxels, e.liver[v / plane] = 1;
      if (labels[v] == 2) ++e.lesion_voxels, e.lesion[v / plane] = 1;
    }
    e.liver_slices = std::count(e.liver.begin(), e.liver.end(), 1);
    e.lesion_slices = std::count(e.lesion.begin(), e.lesion.end(), 1);
    at = (tmp / "labels.npy").string();
    write_npy(at, NpyType::kUInt8, shape, labels.data());
    at = image_path;  // the spacing the 3D maps need comes from the image's header
    Weightmaps maps = compute_weightmaps(labels, dims, e.spacing_mm, options.weightmaps);
    std::vector<uint16_t> half(n);
    for (auto [map, file] :
         {std::pair{&maps.liver, "liver_weights.npy"}, std::pair{&maps.lesion, "lesion_weights.npy"}}) {
      for (size_t v = 0; v < n; ++v) half[v] = float_to_half((*map)[v]);
      *map = std::vector<float>{};
      at = (tmp / file).string();
      write_npy(at, NpyType::kFloat16, shape, half.data());
    }
  }
  e.bytes = folder_bytes(tmp);
  at = (tmp / "volume.json").string();
  write_text_atomic(at, entry_json(e, "").append("\n"));
  return e;
}

// Best effort: makes the renames inside `dir` durable.
void sync_folder(const fs::path& dir) {
  std::FILE* f = std::fopen(dir.c_str(), "r");
  if (f == nullptr) return;
  (void)::fsync(::fileno(f));
  std::fclose(f);
}

// Swaps the finished `tmp` folder in as `dest`: the old folder moves aside first, so at every moment `dest`
// is either the complete old volume or the complete new one (or, between two renames, briefly absent).
void install(const fs::path& tmp, const fs::path& dest, const fs::path& trash) {
  std::error_code ec;
  const bool had_old = fs::exists(fs::symlink_status(dest));
  if (had_old) {
    fs::rename(dest, trash, ec);
    if (ec)
      LITS_THROW("cannot move the previous '" << dest.string() << "' aside to '" << trash.string()
                                              << "': " << ec.message());
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code back;
    if (had_old) fs::rename(trash, dest, back);
    LITS_THROW("cannot rename '" << tmp.string() << "' to '" << dest.string() << "': " << ec.message());
  }
  sync_folder(dest.parent_path());
  fs::remove_all(trash, ec);
}

// Leftovers of a convert that died mid-volume: `.tmp-NAME-PID` and `.trash-NAME-PID` folders whose process
// is gone (or is this one, from an earlier call).
void remove_stale_temporaries(const fs::path& out) {
  static const std::regex temp_re(R"(\.(tmp|trash)-.+-(\d{1,9}))");
  for (const auto& f : fs::directory_iterator(out)) {
    const std::string name = f.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, temp_re)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(m[2].str()));
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH)) {
      std::error_code ec;
      fs::remove_all(f.path(), ec);
    }
  }
}

// Sort key: the name's non-digit prefix, then its trailing number, so volume-2 comes before volume-10.
std::pair<std::string, int64_t> name_key(const std::string& name) {
  size_t d = name.size();
  while (d > 0 && std::isdigit(static_cast<unsigned char>(name[d - 1]))) --d;
  const int64_t n = d < name.size() && name.size() - d < 18 ? std::stoll(name.substr(d)) : -1;
  return {name.substr(0, d), n};
}

// Every complete volume folder of the store (one with a readable volume.json), in name order.
std::vector<StoreEntry> scan_store(const fs::path& out) {
  std::vector<StoreEntry> entries;
  for (const auto& f : fs::directory_iterator(out)) {
    const std::string name = f.path().filename().string();
    if (name.empty() || name[0] == '.' || !f.is_directory() || !fs::exists(f.path() / "volume.json")) continue;
    try {
      StoreEntry e = read_volume_json((f.path() / "volume.json").string());
      if (e.name == name) entries.push_back(std::move(e));
    } catch (const Error&) {
      // Not a volume this store wrote; the index leaves it out.
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const StoreEntry& a, const StoreEntry& b) { return name_key(a.name) < name_key(b.name); });
  return entries;
}

void write_index(const fs::path& out, const std::vector<StoreEntry>& entries) {
  std::string text = "{\n  \"format\": \"lits slice store\",\n  \"version\": 1,\n  \"volumes\": [";
  for (size_t v = 0; v < entries.size(); ++v)
    text.append(v ? ",\n    " : "\n    ").append(entry_json(entries[v], "    "));
  text.append(entries.empty() ? "]\n}\n" : "\n  ]\n}\n");
  write_text_atomic((out / "index.json").string(), text);
}

}  // namespace

int64_t store_bytes_per_slice(bool labels, int64_t height, int64_t width) {
  return height * width * (labels ? 2 + 1 + 2 * 2 : 2);
}

ConvertReport convert_dataset(const ConvertOptions& options,
                              const std::function<void(const ConvertProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (options.in.empty()) LITS_THROW("convert: the input folder is not set");
  if (options.out.empty()) LITS_THROW("convert: the store folder is not set");
  if (options.threads < 0)
    LITS_THROW("convert: threads " << options.threads << " is invalid; expected 0 (all cores) or more");
  fs::path in = options.in;
  if (!fs::is_directory(in))
    LITS_THROW("convert: input folder '" << options.in << "' does not exist or is not a folder");
  std::vector<std::string> ignored;
  std::vector<Job> jobs = discover(in, options.test, ignored);
  // The dataset root (as `lits synth` writes it) is accepted too: its LiTS subfolder is used.
  const fs::path sub = in / (options.test ? "Test_Data" : "Training_Data");
  if (jobs.empty() && fs::is_directory(sub)) jobs = discover(in = sub, options.test, ignored);
  if (jobs.empty())
    LITS_THROW(
        "convert: no " << (options.test ? "test-volume-N" : "volume-N / segmentation-N") << ".nii[.gz] files in '"
                       << in.string() << "'" << (options.test ? "" : " (test volumes need --test)")
                       << (ignored.empty() ? ""
                                           : "; its NIfTI files have other names, such as '" + ignored.front() + "'"));

  const fs::path out = options.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!fs::is_directory(out))
    LITS_THROW("convert: cannot create the store folder '" << options.out << "': " << ec.message());
  if (fs::weakly_canonical(out) == fs::weakly_canonical(in))
    LITS_THROW("convert: the store folder '" << options.out << "' is the input folder");
  remove_stale_temporaries(out);

  const int total = static_cast<int>(jobs.size());
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, total);
  std::vector<std::optional<StoreEntry>> done(jobs.size());
  std::vector<std::optional<ConvertFailure>> failed(jobs.size());
  std::vector<int64_t> bytes(jobs.size(), 0);
  std::atomic<int> next{0};
  std::mutex report_mutex;
  int finished = 0;
  const std::string pid = std::to_string(::getpid());

  auto worker = [&] {
    for (int t = next++; t < total; t = next++) {
      const Job& job = jobs[static_cast<size_t>(t)];
      const auto job_start = std::chrono::steady_clock::now();
      const fs::path tmp = out / std::string(".tmp-").append(job.name).append("-").append(pid);
      std::optional<ConvertFailure> failure = pairing_failure(job, in, options.test);
      if (!failure) {
        std::string at;
        try {
          fs::remove_all(tmp);
          StoreEntry e = convert_volume(job, options, tmp, at);
          bytes[t] = folder_bytes(tmp);
          at = (out / job.name).string();
          install(tmp, out / job.name, out / std::string(".trash-").append(job.name).append("-").append(pid));
          done[t] = std::move(e);
        } catch (const std::bad_alloc&) {
          failure = ConvertFailure{at, "out of memory (use fewer --workers)"};
        } catch (const std::exception& ex) {
          failure = ConvertFailure{at, ex.what()};
        }
        std::error_code cleanup;
        if (failure) fs::remove_all(tmp, cleanup);
      }
      failed[t] = failure;
      std::lock_guard<std::mutex> lock(report_mutex);
      ++finished;
      if (progress) {
        ConvertProgress p;
        p.done = finished;
        p.total = total;
        p.name = job.name;
        p.ok = done[t].has_value();
        p.entry = p.ok ? &*done[t] : nullptr;
        p.failure = p.ok ? nullptr : &*failed[t];
        p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count();
        progress(p);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();

  ConvertReport report;
  report.threads = threads;
  report.ignored = ignored;
  for (size_t t = 0; t < jobs.size(); ++t) {
    if (done[t]) report.converted.push_back(std::move(*done[t]));
    if (failed[t]) report.failures.push_back(std::move(*failed[t]));
    report.bytes_written += bytes[t];
  }
  const std::vector<StoreEntry> entries = scan_store(out);
  write_index(out, entries);
  report.store_volumes = static_cast<int64_t>(entries.size());
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::vector<int16_t> store_image_from_nifti(const std::vector<float>& values, const std::array<int64_t, 3>& dims) {
  const int64_t ni = dims[0], nj = dims[1], nk = dims[2];
  LITS_CHECK(static_cast<int64_t>(values.size()) == ni * nj * nk,
             "store image: " << values.size() << " voxels for dims " << dims_text(dims));
  // The reference's astype(int16) truncates toward zero; clamping (not wrapping) keeps a stray
  // out-of-range value at the nearest int16 instead of flipping its sign.
  std::vector<int16_t> image(values.size());
  for (int64_t k = 0; k < nk; ++k)
    for (int64_t j = 0; j < nj; ++j)
      for (int64_t i = 0; i < ni; ++i) {
        const double v = std::trunc(static_cast<double>(values[static_cast<size_t>((k * nj + j) * ni + i)]));
        image[static_cast<size_t>((k * ni + i) * nj + j)] = static_cast<int16_t>(std::clamp(v, -32768.0, 32767.0));
      }
  return image;
}

std::vector<uint8_t> store_mask_from_nifti(const std::vector<uint8_t>& voxels, const std::array<int64_t, 3>& dims) {
  const int64_t ni = dims[0], nj = dims[1], nk = dims[2];
  LITS_CHECK(static_cast<int64_t>(voxels.size()) == ni * nj * nk,
             "store mask: " << voxels.size() << " voxels for dims " << dims_text(dims));
  std::vector<uint8_t> out(voxels.size());
  for (int64_t k = 0; k < nk; ++k)
    for (int64_t j = 0; j < nj; ++j)
      for (int64_t i = 0; i < ni; ++i)
        out[static_cast<size_t>((k * ni + i) * nj + j)] = voxels[static_cast<size_t>((k * nj + j) * ni + i)];
  return out;
}

namespace {

template <typename T>
std::vector<T> nifti_order_of(const std::vector<T>& mask, const std::array<int64_t, 3>& dims) {
  const int64_t ni = dims[0], nj = dims[1], nk = dims[2];
  LITS_CHECK(static_cast<int64_t>(mask.size()) == ni * nj * nk,
             "nifti mask: " << mask.size() << " voxels for dims " << dims_text(dims));
  std::vector<T> out(mask.size());
  for (int64_t k = 0; k < nk; ++k)
    for (int64_t j = 0; j < nj; ++j)
      for (int64_t i = 0; i < ni; ++i)
        out[static_cast<size_t>((k * nj + j) * ni + i)] = mask[static_cast<size_t>((k * ni + i) * nj + j)];
  return out;
}

}  // namespace

std::vector<uint8_t> nifti_mask_from_store(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& dims) {
  return nifti_order_of(mask, dims);
}

std::vector<uint16_t> nifti_mask_from_store(const std::vector<uint16_t>& mask, const std::array<int64_t, 3>& dims) {
  return nifti_order_of(mask, dims);
}

StoreEntry read_volume_json(const std::string& path) { return entry_from_json(read_json_file(path), path); }

std::vector<StoreEntry> read_store_index(const std::string& out_dir) {
  const std::string path = (fs::path(out_dir) / "index.json").string();
  const Json j = read_json_file(path);
  LITS_CHECK(j.kind == Json::Kind::kObject && j.find("format") && j.find("format")->text == "lits slice store",
             "'" << path << "' is not a lits slice store index");
  std::vector<StoreEntry> entries;
  for (const Json& v : field(j, "volumes", Json::Kind::kArray, path).items) entries.push_back(entry_from_json(v, path));
  return entries;
}

StoredVolume read_stored_volume(const std::string& out_dir, const std::string& name) {
  const fs::path dir = fs::path(out_dir) / name;
  StoredVolume s;
  s.entry = read_volume_json((dir / "volume.json").string());
  const std::vector<int64_t> shape(s.entry.shape.begin(), s.entry.shape.end());
  auto load = [&](const char* file, NpyType type, auto& into) {
    const std::string path = (dir / file).string();
    const NpyArray a = read_npy(path);
    LITS_CHECK(a.type == type && a.shape == shape, "store file '"
                                                       << path << "' has dtype " << npy_descr(a.type)
                                                       << " and another shape than volume.json says; expected "
                                                       << npy_descr(type) << " " << dims_text(s.entry.shape));
    into.resize(a.bytes.size() / sizeof(into[0]));
    std::memcpy(into.data(), a.bytes.data(), a.bytes.size());
  };
  load("image.npy", NpyType::kInt16, s.image);
  if (s.entry.labels) {
    load("labels.npy", NpyType::kUInt8, s.labels);
    load("liver_weights.npy", NpyType::kFloat16, s.liver_weights);
    load("lesion_weights.npy", NpyType::kFloat16, s.lesion_weights);
  }
  return s;
}

}  // namespace lits
