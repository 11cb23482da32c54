// 2-D convolution (cross-correlation, PyTorch semantics): forward, backward-data and
// backward-weight. Transposed convolution uses the same three with the roles swapped (its forward
// is a backward-data, see engine/ops/conv.cpp), so every backend implements only these.
//   CPU reference: im2col + GEMM, deterministic (gathers, fixed summation order); the test oracle.
//   CPU oneDNN:    float32 only (conv_onednn.cpp), used when the build has oneDNN; runs in its
//                  channel-blocked layouts, reordering the plain buffers in and out.
//   CUDA:          cuDNN (conv.cu), algorithm chosen once per shape and cached.
// Bias gradients are plain reductions and go through the engine's sum op.
#pragma once

#include <cstdint>

#include "kernels/common.h"
#include "kernels/precision.h"

namespace lits::kernels {

// Shapes of one convolution: input [N, Ci, H, W], weight [Co, Ci, K, K], output [N, Co, Ho, Wo].
struct ConvShape {
  int64_t N = 0, Ci = 0, H = 0, W = 0;
  int64_t Co = 0, K = 0;
  int64_t Ho = 0, Wo = 0;
  int64_t stride = 1, pad = 0, dil = 1;
};

// Output extent along one axis; <= 0 means the combination yields an empty output.
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// oneDNN takes an explicit right padding: the one that makes a convolution from `in` pixels give
// exactly `out` (PyTorch's floor formula), when the stride does not divide the padded extent.
inline int64_t conv_pad_right(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (out - 1) * stride + (k - 1) * dil + 1 - in - pad;
}

// ---- CPU reference (T = float or double) ----
// x [N, Ci, H, W], w [Co, Ci, K, K], bias [Co] or null -> y [N, Co, Ho, Wo]
template <typename T>
void conv2d_forward_cpu(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
// dy [N, Co, Ho, Wo], w -> dx [N, Ci, H, W]
template <typename T>
void conv2d_backward_data_cpu(const ConvShape& s, const T* dy, const T* w, T* dx);
// x, dy -> dw [Co, Ci, K, K]
template <typename T>
void conv2d_backward_weight_cpu(const ConvShape& s, const T* x, const T* dy, T* dw);

// ---- CPU oneDNN (float32; declared always, defined only when LITS_HAVE_ONEDNN) ----
void conv2d_forward_onednn(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data_onednn(const ConvShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight_onednn(const ConvShape& s, const float* x, const float* dy, float* dw);

// ---- CUDA (cuDNN) ----
// `deterministic` restricts backward algorithms to those cuDNN reports as deterministic. `math`
// applies to float (kernels/precision.h; double always computes in double): kTf32 lets cuDNN use
// TF32 tensor cores, kBf16 stages the operands as bfloat16 in the workspace and converts the
// bfloat16 product back (the bias is added in float32 after).
template <typename T>
Status conv2d_forward_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* w, const T* bias, T* y,
                           const Workspace& ws, MathMode math = MathMode::kFp32);
template <typename T>
Status conv2d_backward_data_cuda(CudnnHandle h, const ConvShape& s, const T* dy, const T* w, T* dx, const Workspace& ws,
                                 bool deterministic, MathMode math = MathMode::kFp32);
template <typename T>
Status conv2d_backward_weight_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* dy, T* dw,
                                   const Workspace& ws, bool deterministic, MathMode math = MathMode::kFp32);

}  // namespace lits::kernels
