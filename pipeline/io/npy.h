// NumPy .npy files (format version 1.0) for the slice store (docs/architecture.md section 9): images int16,
// labels uint8, weightmaps float16, so `numpy.load` opens every file; float32 and float64 for the network
// inputs and outputs of `lits forward`. Little-endian, C order.
// Writes are atomic: a temporary file in the same folder, fsync, rename.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

enum class NpyType { kUInt8, kInt16, kFloat16, kFloat32, kFloat64 };

// "|u1", "<i2", "<f2", "<f4", "<f8"
const char* npy_descr(NpyType type);
int64_t npy_item_size(NpyType type);

struct NpyArray {
  NpyType type = NpyType::kUInt8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // row-major, little-endian items
};

// `data` holds prod(shape) items of `type` (raw little-endian bytes).
void write_npy(const std::string& path, NpyType type, const std::vector<int64_t>& shape, const void* data);
// Throws lits::Error naming the path and the problem (not an .npy file, unsupported dtype, Fortran
// order, truncated data).
NpyArray read_npy(const std::string& path);

struct NpyHeader {
  NpyType type = NpyType::kUInt8;
  std::vector<int64_t> shape;
  int64_t data_offset = 0;  // bytes from the start of the file to the first item
  int64_t data_bytes = 0;   // items x item size, checked against overflow and a 1 TiB limit
};

// A read-only memory mapping of an .npy file, for the loader: slices are read on demand through the page
// cache, so a store far larger than memory (LiTS: about 100 GB) can be sampled at random. Checks as
// read_npy, including that the file holds all its data. Not copyable; the mapping ends with the object.
class MappedNpy {
 public:
  explicit MappedNpy(const std::string& path);
  ~MappedNpy();
  MappedNpy(const MappedNpy&) = delete;
  MappedNpy& operator=(const MappedNpy&) = delete;

  NpyType type() const { return header_.type; }
  const std::vector<int64_t>& shape() const { return header_.shape; }
  const std::string& path() const { return path_; }
  const uint8_t* data() const;  // the first item
  template <typename T>
  const T* items() const {
    return reinterpret_cast<const T*>(data());
  }

 private:
  std::string path_;
  NpyHeader header_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
};

}  // namespace lits
