// reshape, narrow, contiguous (views where possible), concat and split.
#include <numeric>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

int normalize_dim(const char* op, const Tensor& x, int dim) {
  const int d = dim < 0 ? dim + x.ndim() : dim;
  LITS_CHECK(d >= 0 && d < x.ndim(), op << ": dim " << dim << " out of range for " << x.str());
  return d;
}

// Copies `src` into the slice [start, start + src.size(dim)) of `dst` along `dim`.
void copy_into_slice(const Tensor& src, const Tensor& dst, int dim, int64_t start, const char* op) {
  if (src.numel() == 0) return;
  kernels::CopyIndex ix;
  ix.ndim = src.ndim();
  for (int d = 0; d < src.ndim(); ++d) {
    ix.shape[d] = src.shape()[d];
    ix.src_strides[d] = src.strides()[d];
    ix.dst_strides[d] = dst.strides()[d];
  }
  const Tensor window = make_view(dst, src.shape(), dst.strides(), dst.offset() + start * dst.strides()[dim]);
  dispatch_copy(src, window, ix, op);
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_float_input("reshape", x);
  std::vector<int64_t> dims = shape.vec();
  LITS_CHECK(shape.numel() == x.numel(), "reshape: " << x.str() << " (" << x.numel() << " elements) to " << shape.str()
                                                     << " (" << shape.numel()
                                                     << " elements); expected the same element count");
  const Tensor xd = dense(x);
  Tensor out = make_view(xd, shape, shape.contiguous_strides(), xd.offset());
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    record_op("reshape", {x}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      const Tensor gd = dense(g[0]);
      return {make_view(gd, in_shape, in_shape.contiguous_strides(), gd.offset())};
    });
  }
  return out;
}

Tensor narrow(const Tensor& x, int dim, int64_t start, int64_t length) {
  check_float_input("narrow", x);
  const int d = normalize_dim("narrow", x, dim);
  LITS_CHECK(start >= 0 && length >= 0 && start + length <= x.shape()[d],
             "narrow: [" << start << ", " << start + length << ") along dim " << d << " of " << x.str()
                         << " (expected within [0, " << x.shape()[d] << "])");
  Shape shape = x.shape();
  shape[d] = length;
  Tensor out = make_view(x, shape, x.strides(), x.offset() + start * x.strides()[d]);
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    const DType dt = x.dtype();
    const Device dev = x.device();
    record_op("narrow", {x}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor gx = Tensor::zeros(in_shape, dt, dev);
      copy_into_slice(g[0], gx, d, start, "narrow backward");
      return {gx};
    });
  }
  return out;
}

Tensor contiguous(const Tensor& x) {
  check_float_input("contiguous", x);
  if (x.is_contiguous()) return x;
  Tensor out = x.clone();
  if (any_requires_grad({x})) {
    record_op("contiguous", {x}, {out}, [](const std::vector<Tensor>& g) -> std::vector<Tensor> { return {g[0]}; });
  }
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int dim) {
  LITS_CHECK(!xs.empty(), "concat: no tensors given");
  for (const Tensor& x : xs) check_float_input("concat", x);
  const Tensor& first = xs[0];
  const int d = normalize_dim("concat", first, dim);
  Shape shape = first.shape();
  int64_t total = 0;
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) {
    check_same_device_dtype("concat", {first, x});
    bool ok = x.ndim() == first.ndim();
    for (int k = 0; ok && k < x.ndim(); ++k) ok = k == d || x.shape()[k] == first.shape()[k];
    LITS_CHECK(ok, "concat along dim " << d << ": " << x.str() << " does not match " << first.str()
                                       << " (expected equal sizes in every other dim)");
    sizes.push_back(x.shape()[d]);
    total += x.shape()[d];
  }
  shape[d] = total;
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  int64_t start = 0;
  for (const Tensor& x : xs) {
    copy_into_slice(x, out, d, start, "concat");
    start += x.shape()[d];
  }
  if (any_requires_grad(xs)) {
    record_op("concat", xs, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      std::vector<Tensor> gx;
      int64_t s = 0;
      for (int64_t n : sizes) {
        gx.push_back(narrow(g[0], d, s, n).clone());
        s += n;
      }
      return gx;
    });
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim) {
  check_float_input("split", x);
  const int d = normalize_dim("split", x, dim);
  const int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  LITS_CHECK(total == x.shape()[d], "split: sizes summing to " << total << " along dim " << d << " of " << x.str()
                                                               << " (expected " << x.shape()[d] << ")");
  std::vector<Tensor> outs;
  int64_t start = 0;
  for (int64_t n : sizes) {
    LITS_CHECK(n >= 0, "split: negative size " << n);
    Shape shape = x.shape();
    shape[d] = n;
    outs.push_back(make_view(x, shape, x.strides(), x.offset() + start * x.strides()[d]));
    start += n;
  }
  if (any_requires_grad({x})) {
    const Shape in_shape = x.shape();
    const DType dt = x.dtype();
    const Device dev = x.device();
    record_op("split", {x}, outs, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor gx = Tensor::zeros(in_shape, dt, dev);  // outputs that got no gradient stay zero
      int64_t s = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (g[i].defined()) copy_into_slice(g[i], gx, d, s, "split backward");
        s += sizes[i];
      }
      return {gx};
    });
  }
  return outs;
}

}  // namespace lits
