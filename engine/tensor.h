// Tensor: a typed, shaped, strided view of device memory plus its autograd state. A Tensor is a
// shared handle (copying it aliases); contiguous NCHW row-major by default. Differentiable
// operations are free functions in engine/ops.h; the members here are metadata, transfers and
// in-place utilities that autograd does not record.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace lits {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (uninitialised, constant, or from host values) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::kFloat32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kFloat32, Device device = Device::cpu());
  // A CPU tensor in page-locked memory when a CUDA device is usable (fast, asynchronous uploads for the
  // loader's batches), else in ordinary CPU memory.
  static Tensor empty_pinned(const Shape& shape, DType dtype = DType::kFloat32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::kFloat32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::kFloat32, Device device = Device::cpu());
  // `values` in row-major order, converted to `dtype`; its size must equal shape.numel().
  static Tensor from_values(const std::vector<double>& values, const Shape& shape, DType dtype = DType::kFloat32,
                            Device device = Device::cpu());

  // Integer tensor (int64 by default; uint8 and int32 too) from host values, e.g. class labels.
  static Tensor from_ints(const std::vector<int64_t>& values, const Shape& shape, DType dtype = DType::kInt64,
                          Device device = Device::cpu());

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int ndim() const { return shape().ndim(); }
  int64_t size(int dim) const;  // negative dims count from the end
  int64_t numel() const { return shape().numel(); }
  int64_t offset() const;  // in elements, into the storage
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  bool is_pinned() const;  // host memory from empty_pinned that is really page-locked
  int64_t nbytes() const { return numel() * dtype_size(dtype()); }
  std::string str() const;  // "float32[2, 3] on cpu"

  // ---- data access (throws for an undefined or released tensor, or a dtype mismatch) ----
  void* data_ptr() const;
  template <typename T>
  T* data() const {
    check_dtype(dtype_of<T>(), "data<T>()");
    return static_cast<T*>(data_ptr());
  }

  // ---- copies and transfers (not recorded by autograd; see ops.h for differentiable ones) ----
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;                   // contiguous copy, same device and dtype, no autograd history
  Tensor detach() const;                  // same storage, no autograd history
  std::vector<double> to_vector() const;  // host copy in row-major order (float tensors)
  std::vector<int64_t> to_ints() const;   // host copy in row-major order (integer tensors)
  double item() const;                    // the value of a one-element tensor

  // ---- in-place utilities: never recorded, refused on a tensor that requires grad while grad
  // mode is on (use NoGradGuard, as optimizers and initialisers do) ----
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);                       // same shape; any device/dtype
  Tensor& add_(const Tensor& other, double alpha = 1.0);  // this += alpha * other, same shape
  Tensor& uniform_(double lo, double hi, Generator& gen = default_generator());
  Tensor& normal_(double mean, double std, Generator& gen = default_generator());

  // Frees the memory now; any later use of this tensor (or a view of it) is an error.
  void release();
  bool is_released() const;

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);  // leaves only
  bool is_leaf() const;
  const Tensor& grad() const;  // undefined until a backward reaches this leaf
  void zero_grad() const;      // drops the gradient (autograd state lives in the shared impl)
  const std::shared_ptr<Node>& grad_fn() const;
  // Sets a leaf's gradient (same shape, dtype and device), e.g. the all-reduced one of data-parallel training.
  void set_grad(const Tensor& grad) const;
  // Called by backward() right after this leaf's gradient is complete for that walk (once per walk, after
  // every contribution is summed in); data-parallel training starts reducing gradients from here.
  void set_grad_ready_hook(std::function<void()> hook) const;
  // Backpropagates from this tensor. `grad` defaults to 1 for one-element tensors. Saved tensors
  // are freed as the walk passes unless retain_graph is set.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }
  void check_dtype(DType expected, const char* what) const;

 private:
  void check_defined(const char* what) const;
  void check_inplace(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;  // null for a zero-size tensor or after release()
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::kFloat32;
  Device device;
  bool released = false;
  // autograd
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  int output_nr = 0;              // which output of grad_fn this is
  std::weak_ptr<Node> grad_accumulator;
  std::function<void()> grad_ready_hook;  // see Tensor::set_grad_ready_hook
};

// A view of `base`'s storage with another shape/strides/offset (no copy, no autograd).
Tensor make_view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

}  // namespace lits
