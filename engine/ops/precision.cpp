// The process's precision for float32 convolutions and GEMMs (engine/ops.h), and the CPU twin's
// rounding helpers the conv and matmul ops share.
#include <atomic>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {
std::atomic<Precision> g_precision{Precision::kFp32};
}  // namespace

void set_precision(Precision p) { g_precision.store(p); }
Precision precision() { return g_precision.load(); }

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kTf32: return "tf32";
    case Precision::kBf16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const std::string& text, const std::string& what) {
  for (Precision p : {Precision::kFp32, Precision::kTf32, Precision::kBf16})
    if (text == precision_name(p)) return p;
  LITS_THROW(what << ": '" << text << "' is not a precision; expected fp32, tf32 or bf16");
}

kernels::MathMode math_mode(DType dtype) {
  if (dtype != DType::kFloat32) return kernels::MathMode::kFp32;
  switch (precision()) {
    case Precision::kFp32: return kernels::MathMode::kFp32;
    case Precision::kTf32: return kernels::MathMode::kTf32;
    case Precision::kBf16: return kernels::MathMode::kBf16;
  }
  return kernels::MathMode::kFp32;
}

Tensor rounded_cpu(const Tensor& x, kernels::MathMode mode) {
  if (mode == kernels::MathMode::kFp32) return x;
  const Tensor xd = dense(x);
  Tensor out = Tensor::empty(x.shape(), DType::kFloat32, x.device());
  kernels::round_cpu(mode, xd.data<float>(), out.data<float>(), x.numel());
  return out;
}

void round_product_cpu(const Tensor& y, kernels::MathMode mode) {
  if (mode != kernels::MathMode::kBf16) return;
  kernels::round_cpu(mode, y.data<float>(), y.data<float>(), y.numel());
}

}  // namespace lits
