// Tensor shape / strides: up to kMaxDims int64 extents, stored inline.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace lits {

constexpr int kMaxDims = 5;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return ndim_; }
  int64_t operator[](int d) const { return dims_[d]; }
  int64_t& operator[](int d) { return dims_[d]; }
  int64_t numel() const;
  const int64_t* data() const { return dims_; }
  std::vector<int64_t> vec() const { return {dims_, dims_ + ndim_}; }
  bool operator==(const Shape& o) const;
  std::string str() const;  // "[2, 3, 4]"

  // Row-major strides of a contiguous tensor of this shape.
  Shape contiguous_strides() const;

 private:
  int64_t dims_[kMaxDims] = {};
  int ndim_ = 0;
};

}  // namespace lits
