// Opening and reading the slice store (see slice_store.h).
#include "pipeline/data/slice_store.h"

#include <filesystem>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace lits {

namespace {

std::unique_ptr<MappedNpy> map_checked(const fs::path& path, NpyType type, const StoreEntry& e) {
  auto m = std::make_unique<MappedNpy>(path.string());
  const std::vector<int64_t> shape(e.shape.begin(), e.shape.end());
  LITS_CHECK(m->type() == type && m->shape() == shape,
             "store file '" << path.string() << "' does not match its volume.json (dtype " << npy_descr(m->type())
                            << ", " << m->shape().size() << " dims; expected " << npy_descr(type) << " [" << e.shape[0]
                            << ", " << e.shape[1] << ", " << e.shape[2] << "])");
  return m;
}

}  // namespace

int volume_number(const std::string& name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 >= name.size()) return -1;
  int n = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || n > 100000000) return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

SliceStore::SliceStore(const std::string& dir) : dir_(dir) {
  LITS_CHECK(fs::is_directory(dir), "slice store '" << dir
                                                    << "' does not exist or is not a folder (make one with "
                                                       "`lits convert`)");
  LITS_CHECK(fs::exists(fs::path(dir) / "index.json"),
             "slice store '" << dir << "' has no index.json (is it a `lits convert` output folder?)");
  entries_ = read_store_index(dir);
  LITS_CHECK(!entries_.empty(), "slice store '" << dir << "' holds no volumes");
  arrays_.resize(entries_.size());
  for (size_t v = 0; v < entries_.size(); ++v) {
    const StoreEntry& e = entries_[v];
    const fs::path folder = fs::path(dir) / e.name;
    LITS_CHECK(e.shape[0] >= 1 && e.shape[1] >= 1 && e.shape[2] >= 1,
               "slice store '" << dir << "': volume " << e.name << " has an empty shape");
    if (e.labels) {
      LITS_CHECK(
          static_cast<int64_t>(e.liver.size()) == e.shape[0] && static_cast<int64_t>(e.lesion.size()) == e.shape[0],
          "slice store '" << dir << "': volume " << e.name << " lists per-slice flags for " << e.liver.size()
                          << " slices, expected " << e.shape[0]);
    }
    Arrays& a = arrays_[v];
    a.image = map_checked(folder / "image.npy", NpyType::kInt16, e);
    if (e.labels) {
      a.labels = map_checked(folder / "labels.npy", NpyType::kUInt8, e);
      a.liver_weights = map_checked(folder / "liver_weights.npy", NpyType::kFloat16, e);
      a.lesion_weights = map_checked(folder / "lesion_weights.npy", NpyType::kFloat16, e);
    }
  }
}

int64_t SliceStore::find(const std::string& name) const {
  for (size_t v = 0; v < entries_.size(); ++v)
    if (entries_[v].name == name) return static_cast<int64_t>(v);
  return -1;
}

std::vector<int> SliceStore::numbers() const {
  std::vector<int> n;
  for (const StoreEntry& e : entries_) n.push_back(volume_number(e.name));
  return n;
}

int64_t SliceStore::slice_offset(int64_t v, int64_t k) const {
  LITS_CHECK(v >= 0 && v < volumes(), "slice store: volume index " << v << " of " << volumes());
  const StoreEntry& e = entry(v);
  LITS_CHECK(k >= 0 && k < e.shape[0],
             "slice store: slice " << k << " of " << e.name << " (" << e.shape[0] << " slices)");
  return k * e.shape[1] * e.shape[2];
}

const SliceStore::Arrays& SliceStore::training_arrays(int64_t v, const char* what) const {
  const Arrays& a = arrays_[static_cast<size_t>(v)];
  LITS_CHECK(a.labels != nullptr, "slice store '" << dir_ << "': " << entry(v).name << " has no " << what
                                                  << " (a test volume, converted with --test)");
  return a;
}

const int16_t* SliceStore::image(int64_t v, int64_t k) const {
  const int64_t off = slice_offset(v, k);
  return arrays_[static_cast<size_t>(v)].image->items<int16_t>() + off;
}

const uint8_t* SliceStore::labels(int64_t v, int64_t k) const {
  const int64_t off = slice_offset(v, k);
  return training_arrays(v, "labels").labels->items<uint8_t>() + off;
}

const uint16_t* SliceStore::liver_weights(int64_t v, int64_t k) const {
  const int64_t off = slice_offset(v, k);
  return training_arrays(v, "weightmaps").liver_weights->items<uint16_t>() + off;
}

const uint16_t* SliceStore::lesion_weights(int64_t v, int64_t k) const {
  const int64_t off = slice_offset(v, k);
  return training_arrays(v, "weightmaps").lesion_weights->items<uint16_t>() + off;
}

}  // namespace lits
