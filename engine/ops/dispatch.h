// Helpers shared by the op implementations: input checks with uniform messages, dtype dispatch,
// and the CUDA launch wrapper that is compiled away in CPU-only builds.
#pragma once

#include <initializer_list>
#include <string>

#include "engine/cuda_check.h"
#include "engine/cuda_context.h"
#include "engine/tensor.h"
#include "kernels/copy.h"
#include "kernels/precision.h"

namespace lits {

// `x` is defined, not released, float32/float64. `what` names the argument ("input", "weight").
void check_float_input(const char* op, const Tensor& x, const char* what = "input");
// All defined tensors in `xs` are on one device and of one dtype.
void check_same_device_dtype(const char* op, std::initializer_list<Tensor> xs);
std::string describe(std::initializer_list<Tensor> xs);  // "float32[2, 3] on cpu, float32[3] on cuda:0"

// x when contiguous, else a contiguous copy; no autograd (for feeding kernels that need dense
// input inside ops whose backward is recorded separately).
Tensor dense(const Tensor& x);

// dst (any strides) = src (any strides), converting dtype; both on dst's device.
void dispatch_copy(const Tensor& src, const Tensor& dst, const kernels::CopyIndex& ix, const char* op);

// The kernels' math mode for an op on `dtype` under the process's precision (float64: kFp32).
kernels::MathMode math_mode(DType dtype);
// A float32 CPU tensor rounded as `mode` rounds an operand (x itself for kFp32): the CPU twin of
// the TF32 and bfloat16 paths.
Tensor rounded_cpu(const Tensor& x, kernels::MathMode mode);
// Rounds a float32 CPU tensor in place as `mode` rounds a product (only kBf16 rounds products).
void round_product_cpu(const Tensor& y, kernels::MathMode mode);

#if LITS_HAVE_CUDA
// The device context's grow-only scratch buffer, for kernels that stage data (cuDNN, bfloat16).
kernels::Workspace workspace_of(const Device& d);
#endif

namespace detail {
[[noreturn]] void throw_no_cuda(const char* op, Device device);
}

}  // namespace lits

#define LITS_DISPATCH_FLOAT(dtype_value, op, ...)                                                      \
  switch (dtype_value) {                                                                               \
    case ::lits::DType::kFloat32: {                                                                    \
      using scalar_t = float;                                                                          \
      __VA_ARGS__;                                                                                     \
    } break;                                                                                           \
    case ::lits::DType::kFloat64: {                                                                    \
      using scalar_t = double;                                                                         \
      __VA_ARGS__;                                                                                     \
    } break;                                                                                           \
    default:                                                                                           \
      LITS_THROW(op << ": dtype " << ::lits::dtype_name(dtype_value) << " is not supported (expected " \
                    << "float32 or float64)");                                                         \
  }

// Runs a kernels::*_cuda launcher with `stream` bound to the device's context stream and turns
// its Status into lits::Error. In builds without CUDA the call is not compiled and the op fails
// with a clear message (a CUDA tensor cannot exist there, so this is a safety net).
#if LITS_HAVE_CUDA
#define LITS_CUDA_ONLY(op, device_value, call)                                                      \
  do {                                                                                              \
    [[maybe_unused]] ::lits::kernels::Stream stream = ::lits::cuda::context(device_value).stream(); \
    ::lits::check_kernel_status((call), op, device_value);                                          \
  } while (0)
#else
#define LITS_CUDA_ONLY(op, device_value, call) ::lits::detail::throw_no_cuda(op, device_value)
#endif

// The dispatch most ops make: kernels::NAME_cpu(args...) for a CPU tensor, kernels::NAME_cuda(args...,
// stream) on the device's stream for a CUDA one (through LITS_CUDA_ONLY). Ops whose CUDA call needs more
// (a scratch buffer, a device-side scalar) write the two calls out.
#define LITS_RUN_KERNEL(op, device_value, name, ...)                                       \
  do {                                                                                     \
    if ((device_value).is_cpu()) {                                                         \
      ::lits::kernels::name##_cpu(__VA_ARGS__);                                            \
    } else {                                                                               \
      LITS_CUDA_ONLY(op, device_value, ::lits::kernels::name##_cuda(__VA_ARGS__, stream)); \
    }                                                                                      \
  } while (0)
