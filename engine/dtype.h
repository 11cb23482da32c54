// Element types. Compute ops take float32 and float64 (float64 is the gradient-check reference);
// float16/bfloat16 and the integer types are storage for now (masks, labels, half weightmaps).
#pragma once

#include <cstdint>
#include <string>

namespace lits {

enum class DType : uint8_t { kFloat32, kFloat64, kFloat16, kBFloat16, kUInt8, kInt32, kInt64 };

constexpr int64_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
    case DType::kUInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
  }
  return 0;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kUInt8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
  }
  return "?";
}

// True for the types the compute ops accept.
constexpr bool is_compute_dtype(DType t) { return t == DType::kFloat32 || t == DType::kFloat64; }

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kFloat64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kUInt8;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kInt64;
}

}  // namespace lits
