// NumPy .npy files (format version 1.0) for the slice store (design.md section 9): images int16,
// labels uint8, weightmaps float16, so `numpy.load` opens every file. Little-endian, C order.
// Writes are atomic: a temporary file in the same folder, fsync, rename.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

enum class NpyType { kUInt8, kInt16, kFloat16, kFloat32 };

// "|u1", "<i2", "<f2", "<f4"
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

}  // namespace lits
