// Shape construction checks and formatting.
#include "engine/shape.h"

#include "engine/error.h"

namespace lits {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  LITS_CHECK(dims.size() <= static_cast<size_t>(kMaxDims),
             "shape with " << dims.size() << " dims: tensors have at most " << kMaxDims << " dims");
  ndim_ = static_cast<int>(dims.size());
  for (int d = 0; d < ndim_; ++d) {
    LITS_CHECK(dims[d] >= 0, "shape dim " << d << " is " << dims[d] << ": expected a size >= 0");
    dims_[d] = dims[d];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int d = 0; d < ndim_; ++d) n *= dims_[d];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int d = 0; d < ndim_; ++d)
    if (dims_[d] != o.dims_[d]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int d = 0; d < ndim_; ++d) s += (d ? ", " : "") + std::to_string(dims_[d]);
  return s + "]";
}

Shape Shape::contiguous_strides() const {
  Shape s;
  s.ndim_ = ndim_;
  int64_t stride = 1;
  for (int d = ndim_ - 1; d >= 0; --d) {
    s.dims_[d] = stride;
    stride *= dims_[d];
  }
  return s;
}

}  // namespace lits
