// Tensor creation, metadata, transfers and the in-place utilities.
#include "engine/tensor.h"

#include <cstring>
#include <sstream>

#include "engine/autograd.h"
#include "engine/cuda_check.h"
#include "engine/cuda_context.h"
#include "engine/ops/dispatch.h"
#include "kernels/copy.h"
#include "kernels/elementwise.h"

#if LITS_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace lits {

namespace {

std::shared_ptr<TensorImpl> new_impl(const Shape& shape, DType dtype, Device device) {
  if (device.is_cuda()) {
    LITS_CHECK(cuda_available(), "cannot create a tensor " << dtype_name(dtype) << shape.str() << " on " << device.str()
                                                           << ": " << cuda_unavailable_reason());
    LITS_CHECK(device.index >= 0 && device.index < cuda_device_count(),
               device.str() << " does not exist (" << cuda_device_count() << " CUDA device(s))");
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = shape.contiguous_strides();
  impl->dtype = dtype;
  impl->device = device;
  const int64_t bytes = shape.numel() * dtype_size(dtype);
  if (bytes > 0) impl->storage = std::make_shared<Storage>(device, bytes);
  return impl;
}

}  // namespace

Tensor Tensor::empty_pinned(const Shape& shape, DType dtype) {
  if (!cuda_available()) return empty(shape, dtype, Device::cpu());
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = shape.contiguous_strides();
  impl->dtype = dtype;
  const int64_t bytes = shape.numel() * dtype_size(dtype);
  if (bytes > 0) impl->storage = std::make_shared<Storage>(Storage::Pinned{}, bytes);
  return Tensor(std::move(impl));
}

bool Tensor::is_pinned() const { return defined() && impl_->storage && impl_->storage->pinned(); }

namespace {

// Host <-> device byte copies of whole contiguous tensors.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, int64_t bytes) {
  if (bytes == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return;
  }
#if LITS_HAVE_CUDA
  const Device gpu = dst_dev.is_cuda() ? dst_dev : src_dev;
  auto& ctx = cuda::context(gpu);
  const cudaMemcpyKind kind = dst_dev.is_cpu()   ? cudaMemcpyDeviceToHost
                              : src_dev.is_cpu() ? cudaMemcpyHostToDevice
                                                 : cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDeviceToDevice && !(dst_dev == src_dev)) {
    LITS_CUDA_CHECK(cudaStreamSynchronize(cuda::context(src_dev).stream()));
    LITS_CUDA_CHECK(cudaMemcpyPeer(dst, dst_dev.index, src, src_dev.index, static_cast<size_t>(bytes)));
    return;
  }
  LITS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), kind, ctx.stream()));
  // Host memory here is pageable and may be freed right after: wait for the copy.
  if (kind != cudaMemcpyDeviceToDevice) LITS_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
#else
  LITS_THROW("copy between " << src_dev.str() << " and " << dst_dev.str() << ": " << cuda_unavailable_reason());
#endif
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) { return Tensor(new_impl(shape, dtype, device)); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::from_values(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
  LITS_CHECK(
      static_cast<int64_t>(values.size()) == shape.numel(),
      "from_values: " << values.size() << " values for shape " << shape.str() << " (expected " << shape.numel() << ")");
  LITS_CHECK(is_compute_dtype(dtype), "from_values: dtype " << dtype_name(dtype) << " (expected float32 or float64)");
  Tensor host = empty(shape, dtype, Device::cpu());
  if (dtype == DType::kFloat64) {
    std::copy(values.begin(), values.end(), host.data<double>());
  } else {
    float* p = host.data<float>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<float>(values[i]);
  }
  return device.is_cpu() ? host : host.to(device);
}

Tensor Tensor::from_ints(const std::vector<int64_t>& values, const Shape& shape, DType dtype, Device device) {
  LITS_CHECK(
      static_cast<int64_t>(values.size()) == shape.numel(),
      "from_ints: " << values.size() << " values for shape " << shape.str() << " (expected " << shape.numel() << ")");
  Tensor host = empty(shape, dtype, Device::cpu());
  switch (dtype) {
    case DType::kInt64: std::copy(values.begin(), values.end(), host.data<int64_t>()); break;
    case DType::kInt32:
      for (size_t i = 0; i < values.size(); ++i) host.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
      break;
    case DType::kUInt8:
      for (size_t i = 0; i < values.size(); ++i) host.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
      break;
    default: LITS_THROW("from_ints: dtype " << dtype_name(dtype) << " (expected int64, int32 or uint8)");
  }
  return device.is_cpu() ? host : host.to(device);
}

std::vector<int64_t> Tensor::to_ints() const {
  check_defined("to_ints()");
  const Tensor host = to(Device::cpu());
  const Tensor dense = host.is_contiguous() ? host : host.clone();
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype()) {
      case DType::kInt64: out[i] = dense.data<int64_t>()[i]; break;
      case DType::kInt32: out[i] = dense.data<int32_t>()[i]; break;
      case DType::kUInt8: out[i] = dense.data<uint8_t>()[i]; break;
      default: LITS_THROW("to_ints(): tensor " << str() << " (expected an integer dtype)");
    }
  }
  return out;
}

void Tensor::check_defined(const char* what) const {
  LITS_CHECK(impl_ != nullptr, what << ": the tensor is undefined (default-constructed or moved from)");
}

const Shape& Tensor::shape() const {
  check_defined("shape()");
  return impl_->shape;
}
const Shape& Tensor::strides() const {
  check_defined("strides()");
  return impl_->strides;
}
int64_t Tensor::offset() const {
  check_defined("offset()");
  return impl_->offset;
}
DType Tensor::dtype() const {
  check_defined("dtype()");
  return impl_->dtype;
}
Device Tensor::device() const {
  check_defined("device()");
  return impl_->device;
}

int64_t Tensor::size(int dim) const {
  const int n = ndim();
  const int d = dim < 0 ? dim + n : dim;
  LITS_CHECK(d >= 0 && d < n, "size(" << dim << ") of a tensor of shape " << shape().str());
  return impl_->shape[d];
}

bool Tensor::is_contiguous() const {
  const Shape& s = shape();
  int64_t expect = 1;
  for (int d = s.ndim() - 1; d >= 0; --d) {
    if (s[d] != 1 && impl_->strides[d] != expect) return false;
    expect *= s[d];
  }
  return true;
}

std::string Tensor::str() const {
  if (!impl_) return "undefined tensor";
  return std::string(dtype_name(impl_->dtype)) + impl_->shape.str() + " on " + impl_->device.str();
}

void Tensor::check_dtype(DType expected, const char* what) const {
  check_defined(what);
  LITS_CHECK(impl_->dtype == expected, what << ": tensor " << str() << " has dtype " << dtype_name(impl_->dtype)
                                            << ", expected " << dtype_name(expected));
}

void* Tensor::data_ptr() const {
  check_defined("data_ptr()");
  LITS_CHECK(!impl_->released, "use of released tensor " << str() << ": its memory was freed by Tensor::release()");
  if (!impl_->storage) return nullptr;
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
}

bool Tensor::is_released() const { return impl_ && impl_->released; }

void Tensor::release() {
  check_defined("release()");
  impl_->storage.reset();
  impl_->released = true;
}

Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  base.data_ptr();  // refuses released tensors
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->device = base.device();
  return Tensor(impl);
}

Tensor Tensor::detach() const {
  check_defined("detach()");
  Tensor t = make_view(*this, impl_->shape, impl_->strides, impl_->offset);
  t.impl()->released = impl_->released;
  return t;
}

Tensor Tensor::clone() const {
  check_defined("clone()");
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device target) const {
  check_defined("to(device)");
  if (target == device()) return *this;
  const Tensor src = is_contiguous() ? *this : clone();
  Tensor out = empty(shape(), dtype(), target);
  copy_bytes(out.data_ptr(), target, src.data_ptr(), device(), nbytes());
  return out;
}

Tensor Tensor::to(DType target) const {
  check_defined("to(dtype)");
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), target, device());
  out.copy_(*this);
  return out;
}

std::vector<double> Tensor::to_vector() const {
  check_defined("to_vector()");
  LITS_CHECK(is_compute_dtype(dtype()), "to_vector(): tensor " << str() << " (expected float32 or float64)");
  const Tensor host = to(Device::cpu()).to(DType::kFloat64);
  const Tensor dense = host.is_contiguous() ? host : host.clone();
  const double* p = dense.data<double>();
  return std::vector<double>(p, p + dense.numel());
}

double Tensor::item() const {
  LITS_CHECK(defined() && numel() == 1,
             "item(): tensor " << str() << " has " << (defined() ? numel() : 0) << " elements, expected exactly 1");
  return to_vector()[0];
}

void Tensor::check_inplace(const char* what) const {
  check_defined(what);
  LITS_CHECK(!(grad_enabled() && requires_grad()),
             what << " on " << str()
                  << " which requires grad: in-place changes are not recorded by autograd "
                     "(wrap the update in NoGradGuard)");
}

Tensor& Tensor::fill_(double value) {
  check_inplace("fill_");
  if (numel() == 0) return *this;
  LITS_CHECK(is_compute_dtype(dtype()), "fill_: tensor " << str() << " (expected float32 or float64)");
  LITS_CHECK(is_contiguous(), "fill_: tensor " << str() << " is a non-contiguous view");
  LITS_DISPATCH_FLOAT(dtype(), "fill_", {
    scalar_t* y = data<scalar_t>();
    LITS_RUN_KERNEL("fill_", device(), fill, y, numel(), static_cast<scalar_t>(value));
  });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace("copy_");
  LITS_CHECK(src.defined() && src.shape() == shape(),
             "copy_: source " << src.str() << " into " << str() << " (expected the same shape)");
  if (numel() == 0) return *this;
  Tensor s = src;
  if (s.device() != device()) {
    // Cross-device: move the source over as a contiguous block first.
    s = (s.is_contiguous() ? s : s.clone()).to(device());
  }
  kernels::CopyIndex ix;
  ix.ndim = ndim();
  for (int d = 0; d < ndim(); ++d) {
    ix.shape[d] = shape()[d];
    ix.src_strides[d] = s.strides()[d];
    ix.dst_strides[d] = strides()[d];
  }
  dispatch_copy(s, *this, ix, "copy_");
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace("add_");
  LITS_CHECK(other.defined() && other.shape() == shape() && other.dtype() == dtype() && other.device() == device(),
             "add_: " << other.str() << " into " << str() << " (expected the same shape, dtype and device)");
  LITS_CHECK(is_contiguous() && other.is_contiguous(), "add_: non-contiguous operands " << str());
  if (numel() == 0) return *this;
  LITS_DISPATCH_FLOAT(dtype(), "add_", {
    scalar_t* y = data<scalar_t>();
    const scalar_t* x = other.data<scalar_t>();
    LITS_RUN_KERNEL("add_", device(), accumulate, y, x, numel(), static_cast<scalar_t>(alpha));
  });
  return *this;
}

Tensor& Tensor::uniform_(double lo, double hi, Generator& gen) {
  check_inplace("uniform_");
  LITS_CHECK(lo <= hi, "uniform_: lo " << lo << " > hi " << hi);
  LITS_CHECK(is_contiguous(), "uniform_: tensor " << str() << " is a non-contiguous view");
  const int64_t n = numel();
  if (n == 0) return *this;
  const uint64_t seed = gen.seed(), off = gen.reserve(n);
  LITS_DISPATCH_FLOAT(dtype(), "uniform_", {
    scalar_t* y = data<scalar_t>();
    const auto a = static_cast<scalar_t>(lo), b = static_cast<scalar_t>(hi);
    LITS_RUN_KERNEL("uniform_", device(), uniform, y, n, a, b, seed, off);
  });
  return *this;
}

Tensor& Tensor::normal_(double mean, double std, Generator& gen) {
  check_inplace("normal_");
  LITS_CHECK(std >= 0, "normal_: std " << std << " (expected >= 0)");
  LITS_CHECK(is_contiguous(), "normal_: tensor " << str() << " is a non-contiguous view");
  const int64_t n = numel();
  if (n == 0) return *this;
  const uint64_t seed = gen.seed(), off = gen.reserve(n);
  LITS_DISPATCH_FLOAT(dtype(), "normal_", {
    scalar_t* y = data<scalar_t>();
    const auto m = static_cast<scalar_t>(mean), s = static_cast<scalar_t>(std);
    LITS_RUN_KERNEL("normal_", device(), normal, y, n, m, s, seed, off);
  });
  return *this;
}

// ---- autograd accessors ----

bool Tensor::requires_grad() const {
  check_defined("requires_grad()");
  return impl_->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool on) {
  check_defined("set_requires_grad()");
  LITS_CHECK(impl_->grad_fn == nullptr, "set_requires_grad on "
                                            << str() << ", the output of op '" << impl_->grad_fn->name()
                                            << "': only leaf tensors can change it (use detach() first)");
  LITS_CHECK(!on || is_compute_dtype(dtype()),
             "set_requires_grad on " << str() << ": only float32/float64 tensors can require grad");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const {
  check_defined("is_leaf()");
  return impl_->grad_fn == nullptr;
}

const Tensor& Tensor::grad() const {
  check_defined("grad()");
  return impl_->grad;
}

void Tensor::zero_grad() const {
  check_defined("zero_grad()");
  impl_->grad = Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  check_defined("set_grad()");
  LITS_CHECK(is_leaf(), "set_grad() on " << str() << ", which is not a leaf");
  LITS_CHECK(!grad.defined() || (grad.shape() == shape() && grad.dtype() == dtype() && grad.device() == device()),
             "set_grad(" << grad.str() << ") on " << str() << " (expected the same shape, dtype and device)");
  impl_->grad = grad;
}

void Tensor::set_grad_ready_hook(std::function<void()> hook) const {
  check_defined("set_grad_ready_hook()");
  impl_->grad_ready_hook = std::move(hook);
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  check_defined("grad_fn()");
  return impl_->grad_fn;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  check_defined("backward()");
  run_backward(*this, grad, retain_graph);
}

}  // namespace lits
