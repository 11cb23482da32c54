// Input checks and the copy dispatch over (source, destination) dtypes.
#include "engine/ops/dispatch.h"

#include <cstdint>

namespace lits {

void check_float_input(const char* op, const Tensor& x, const char* what) {
  LITS_CHECK(x.defined(), op << ": " << what << " is an undefined tensor");
  LITS_CHECK(!x.is_released(),
             op << ": " << what << " " << x.str() << " was released (its memory was freed by Tensor::release())");
  LITS_CHECK(is_compute_dtype(x.dtype()), op << ": " << what << " " << x.str() << " has dtype " << dtype_name(x.dtype())
                                             << " (expected float32 or float64)");
}

std::string describe(std::initializer_list<Tensor> xs) {
  std::string s;
  for (const Tensor& x : xs) s += (s.empty() ? "" : ", ") + x.str();
  return s;
}

void check_same_device_dtype(const char* op, std::initializer_list<Tensor> xs) {
  const Tensor* first = nullptr;
  for (const Tensor& x : xs) {
    if (!x.defined()) continue;
    if (!first) {
      first = &x;
      continue;
    }
    LITS_CHECK(x.device() == first->device(), op << ": tensors on different devices (" << describe(xs)
                                                 << "); expected all on one device: move them with .to(device)");
    LITS_CHECK(x.dtype() == first->dtype(), op << ": tensors of different dtypes (" << describe(xs)
                                               << "); expected one dtype: cast with .to(dtype)");
  }
}

Tensor dense(const Tensor& x) { return x.is_contiguous() ? x : x.clone(); }

namespace detail {
void throw_no_cuda(const char* op, Device device) {
  LITS_THROW(op << ": cannot run on " << device.str() << ": " << cuda_unavailable_reason());
}
}  // namespace detail

namespace {

template <typename S, typename D>
void copy_typed(const Tensor& src, const Tensor& dst, const kernels::CopyIndex& ix, const char* op) {
  const S* s = static_cast<const S*>(src.data_ptr());
  D* d = static_cast<D*>(dst.data_ptr());
  LITS_RUN_KERNEL(op, dst.device(), copy, s, d, ix);
}

}  // namespace

void dispatch_copy(const Tensor& src, const Tensor& dst, const kernels::CopyIndex& ix, const char* op) {
  const DType s = src.dtype(), d = dst.dtype();
  using F = DType;
  if (s == F::kFloat32 && d == F::kFloat32) return copy_typed<float, float>(src, dst, ix, op);
  if (s == F::kFloat64 && d == F::kFloat64) return copy_typed<double, double>(src, dst, ix, op);
  if (s == F::kFloat32 && d == F::kFloat64) return copy_typed<float, double>(src, dst, ix, op);
  if (s == F::kFloat64 && d == F::kFloat32) return copy_typed<double, float>(src, dst, ix, op);
  if (s == d) {
    switch (dtype_size(s)) {
      case 1: return copy_typed<uint8_t, uint8_t>(src, dst, ix, op);
      case 2: return copy_typed<uint16_t, uint16_t>(src, dst, ix, op);
      case 4: return copy_typed<int32_t, int32_t>(src, dst, ix, op);
      case 8: return copy_typed<int64_t, int64_t>(src, dst, ix, op);
    }
  }
  LITS_THROW(op << ": no conversion from " << dtype_name(s) << " to " << dtype_name(d)
                << " (supported: float32 <-> float64, and same-type copies)");
}

#if LITS_HAVE_CUDA
kernels::Workspace workspace_of(const Device& d) {
  kernels::Workspace ws;
  ws.owner = &cuda::context(d);
  ws.get = [](void* owner, int64_t bytes) { return static_cast<cuda::Context*>(owner)->workspace(bytes); };
  return ws;
}
#endif

}  // namespace lits
