// The TF32 and bfloat16 paths (kernels/precision.h) on the emulated device: the conversion kernels
// bit for bit against the CPU functions, and the convolutions and GEMMs in each math mode against
// their CPU twins (float32 arithmetic on operands rounded the same way). The emulated cuDNN and
// cuBLAS round independently of the project's code (cuda_emu/cudnn.cpp, cublas.cpp).
//
// Tolerances: TF32 operands are rounded identically on both sides, so only float32 summation order
// differs: 1e-4 of max(1, |value|), as in the float32 parity tests. bfloat16 products are rounded
// to bfloat16 after sums that may differ in their last float32 bits, so a value may land on the
// neighbouring bfloat16: one bfloat16 step, 2^-7 of max(1, |value|).
#include <cmath>
#include <limits>

#include "cuda_emu/cublas.h"
#include "cuda_emu/cudnn.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/precision.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

using kernels::MathMode;

constexpr double kTf32Tol = 1e-4;
constexpr double kBf16Tol = 1.0 / 128;

double tolerance(MathMode m) { return m == MathMode::kBf16 ? kBf16Tol : kTf32Tol; }
const char* name(MathMode m) { return m == MathMode::kBf16 ? "bf16" : m == MathMode::kTf32 ? "tf32" : "fp32"; }

std::vector<float> rounded(MathMode m, std::vector<float> v) {
  kernels::round_cpu(m, v.data(), v.data(), static_cast<int64_t>(v.size()));
  return v;
}

bool is_bf16(float f) { return (kernels::float_bits(f) & 0xFFFFu) == 0; }

// Largest |a - b| over the elements.
double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  return d;
}

TEST(EmuPrecision, ConversionKernelsAreBitIdenticalToTheCpu) {
  // Ties both ways, the largest finite values, subnormals, zeros, Inf and NaN, and random values.
  std::vector<float> v = {1.0f + 1.0f / 256,
                          1.0f + 3.0f / 256,
                          -1.0f - 1.0f / 256,
                          3.4028235e38f,
                          -3.4028235e38f,
                          1e-40f,
                          -1e-45f,
                          0.0f,
                          -0.0f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()};
  for (float f : uniform<float>(3 * 256 + 19, 7, -1e4, 1e4)) v.push_back(f);
  const int64_t n = static_cast<int64_t>(v.size());
  Device<float> in(v), back(v.size());
  Device<uint16_t> half(v.size());
  kernels::Stream s = nullptr;
  expect_ok(kernels::float_to_bf16_cuda(in.get(), half.get(), n, s));
  expect_ok(kernels::bf16_to_float_cuda(half.get(), back.get(), n, s));
  const std::vector<uint16_t> h = half.host();
  const std::vector<float> b = back.host();
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(h[i], kernels::float_to_bf16(v[i])) << "element " << i << " = " << v[i];
    const float expect = kernels::round_to_bf16(v[i]);
    EXPECT_TRUE(std::isnan(expect) ? std::isnan(b[i]) : kernels::float_bits(b[i]) == kernels::float_bits(expect))
        << "element " << i;
  }
  // The ties: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 and goes to the even 1; 1 + 3 * 2^-8 to 1 + 2^-6.
  EXPECT_EQ(kernels::round_to_bf16(1.0f + 1.0f / 256), 1.0f);
  EXPECT_EQ(kernels::round_to_bf16(1.0f + 3.0f / 256), 1.0f + 1.0f / 64);
  // TF32 ties go away from zero: 1 + 2^-11 -> 1 + 2^-10.
  EXPECT_EQ(kernels::round_to_tf32(1.0f + 1.0f / 2048), 1.0f + 1.0f / 1024);
  EXPECT_EQ(kernels::round_to_tf32(-1.0f - 1.0f / 2048), -1.0f - 1.0f / 1024);
  EXPECT_TRUE(std::isnan(kernels::round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
}

kernels::ConvShape shape(int64_t N, int64_t Ci, int64_t H, int64_t W, int64_t Co, int64_t K, int64_t stride,
                         int64_t pad) {
  kernels::ConvShape s;
  s.N = N, s.Ci = Ci, s.H = H, s.W = W, s.Co = Co, s.K = K, s.stride = stride, s.pad = pad, s.dil = 1;
  s.Ho = kernels::conv_out_size(H, K, stride, pad, 1);
  s.Wo = kernels::conv_out_size(W, K, stride, pad, 1);
  return s;
}

TEST(EmuPrecision, ConvolutionsMatchTheirTwinsInTf32AndBf16) {
  cudaStream_t stream = nullptr;
  cudnnHandle_t h = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cudnnCreate(&h), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetStream(h, stream), CUDNN_STATUS_SUCCESS);
  Scratch scratch;
  const kernels::Workspace ws{&Scratch::get, &scratch};
  for (const auto& s : {shape(2, 8, 9, 8, 6, 3, 1, 1), shape(1, 4, 10, 10, 3, 4, 2, 1), shape(2, 16, 5, 5, 8, 1, 1, 0)})
    for (MathMode m : {MathMode::kTf32, MathMode::kBf16}) {
      const size_t nx = static_cast<size_t>(s.N * s.Ci * s.H * s.W), nw = static_cast<size_t>(s.Co * s.Ci * s.K * s.K),
                   ny = static_cast<size_t>(s.N * s.Co * s.Ho * s.Wo);
      const auto x = uniform<float>(nx, 210), w = uniform<float>(nw, 211), bias = uniform<float>(size_t(s.Co), 212),
                 dy = uniform<float>(ny, 213);
      // The twins: the CPU convolutions on rounded operands; bfloat16 rounds the product too.
      std::vector<float> y(ny), dx(nx), dw(nw), y32(ny), dx32(nx), dw32(nw);
      const auto xr = rounded(m, x), wr = rounded(m, w), dyr = rounded(m, dy);
      kernels::conv2d_forward_cpu(s, xr.data(), wr.data(), static_cast<const float*>(nullptr), y.data());
      kernels::conv2d_backward_data_cpu(s, dyr.data(), wr.data(), dx.data());
      kernels::conv2d_backward_weight_cpu(s, xr.data(), dyr.data(), dw.data());
      if (m == MathMode::kBf16) y = rounded(m, y), dx = rounded(m, dx), dw = rounded(m, dw);
      for (size_t i = 0; i < ny; ++i) y[i] += bias[i / size_t(s.Ho * s.Wo) % size_t(s.Co)];
      kernels::conv2d_forward_cpu(s, x.data(), w.data(), bias.data(), y32.data());
      kernels::conv2d_backward_data_cpu(s, dy.data(), w.data(), dx32.data());
      kernels::conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw32.data());

      Device<float> dX(x), dW(w), dB(bias), dDy(dy), dY(ny), dDx(nx), dDw(nw);
      const std::string what = std::string(name(m)) + " Ci " + std::to_string(s.Ci) + " K " + std::to_string(s.K) +
                               " stride " + std::to_string(s.stride);
      expect_ok(kernels::conv2d_forward_cuda(h, s, dX.get(), dW.get(), dB.get(), dY.get(), ws, m));
      expect_ok(kernels::conv2d_backward_data_cuda(h, s, dDy.get(), dW.get(), dDx.get(), ws, false, m));
      expect_ok(kernels::conv2d_backward_weight_cuda(h, s, dX.get(), dDy.get(), dDw.get(), ws, true, m));
      const auto ey = dY.host(), edx = dDx.host(), edw = dDw.host();
      expect_close(y, ey, "conv forward " + what, tolerance(m));
      expect_close(dx, edx, "conv backward data " + what, tolerance(m));
      expect_close(dw, edw, "conv backward weight " + what, tolerance(m));
      // The path really rounds: it differs from float32 by more than float32 summation could, and by
      // less than the operands' rounding allows (2^-11 or 2^-8 relative per operand, twice per product, summed,
      // plus the product's own bfloat16 step). Inputs are within [-2, 2].
      const double products = static_cast<double>(s.Ci * s.K * s.K), unit = m == MathMode::kBf16 ? 0x1p-8 : 0x1p-11;
      const double bound = 2 * unit * 4 * products + (m == MathMode::kBf16 ? 4 * products * unit : 0.0);
      EXPECT_GT(max_diff(ey, y32), 1e-5) << what << ": the same as float32, nothing was rounded";
      EXPECT_LT(max_diff(ey, y32), bound) << what;
      EXPECT_GT(max_diff(edx, dx32), 1e-5) << what;
      if (m == MathMode::kBf16) {
        for (size_t i = 0; i < nx; ++i) ASSERT_TRUE(is_bf16(edx[i])) << what << ": dx[" << i << "] is not a bfloat16";
        for (size_t i = 0; i < nw; ++i) ASSERT_TRUE(is_bf16(edw[i])) << what << ": dw[" << i << "] is not a bfloat16";
      }
    }
  EXPECT_EQ(cudnnDestroy(h), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(EmuPrecision, GemmsMatchTheirTwinsInTf32AndBf16) {
  cudaStream_t stream = nullptr;
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(h, stream), CUBLAS_STATUS_SUCCESS);
  Scratch scratch;
  const kernels::Workspace ws{&Scratch::get, &scratch};
  const int64_t shapes[][3] = {{17, 33, 9}, {64, 3, 130}, {2, 300, 257}};
  for (MathMode m : {MathMode::kTf32, MathMode::kBf16})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (const auto& sh : shapes) {
          const int64_t M = sh[0], N = sh[1], K = sh[2];
          const auto a = uniform<float>(size_t(M * K), 300), b = uniform<float>(size_t(K * N), 301);
          std::vector<float> c(size_t(M * N)), c32(size_t(M * N));
          const auto ar = rounded(m, a), br = rounded(m, b);
          kernels::gemm_cpu(ta, tb, M, N, K, ar.data(), br.data(), c.data());  // the product stays float32
          kernels::gemm_cpu(ta, tb, M, N, K, a.data(), b.data(), c32.data());
          Device<float> da(a), db(b), dc(c.size());
          expect_ok(kernels::gemm_cuda(h, ta, tb, M, N, K, da.get(), db.get(), dc.get(), m, ws));
          const std::string what =
              std::string(name(m)) + " " + (ta ? "T" : "N") + (tb ? "T" : "N") + " K " + std::to_string(K);
          const auto ec = dc.host();
          expect_close(c, ec, "gemm " + what, kTf32Tol);
          EXPECT_GT(max_diff(ec, c32), 1e-5) << what << ": the same as float32, nothing was rounded";
        }
  // bfloat16 needs the workspace for its staging; without one the call fails instead of guessing.
  Device<float> a(4), b(4), c(4);
  EXPECT_NE(kernels::gemm_cuda(h, false, false, 2, 2, 2, a.get(), b.get(), c.get(), MathMode::kBf16).code, 0);
  EXPECT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(EmuPrecision, LibrariesRefuseWhatTheyDoNotServe) {
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  Device<float> a(4), b(4), c(4);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), CUDA_R_32F, 2, b.get(), CUDA_R_32F, 2,
                         &zero, c.get(), CUDA_R_32F, 2, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), CUDA_R_16BF, 2, b.get(), CUDA_R_32F, 2,
                         &zero, c.get(), CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED)
      << "mixed operand types";
  EXPECT_EQ(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), CUDA_R_16BF, 2, b.get(), CUDA_R_16BF, 2,
                         &zero, c.get(), CUDA_R_32F, 2, CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED)
      << "bfloat16 with double compute";
  EXPECT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);

  // cuDNN: bfloat16 tensors convolve with a float compute type only; tensor-op math never with double.
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnHandle_t dh = nullptr;
  ASSERT_EQ(cudnnCreate(&dh), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateTensorDescriptor(&x), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateTensorDescriptor(&y), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateFilterDescriptor(&w), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateConvolutionDescriptor(&conv), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_BFLOAT16, 1, 2, 5, 5), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_BFLOAT16, 1, 3, 5, 5), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_NCHW, 3, 2, 3, 3), CUDNN_STATUS_SUCCESS);
  size_t bytes = 0;
  for (cudnnDataType_t compute : {CUDNN_DATA_FLOAT, CUDNN_DATA_BFLOAT16, CUDNN_DATA_DOUBLE}) {
    EXPECT_EQ(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, compute),
              CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(
        cudnnGetConvolutionForwardWorkspaceSize(dh, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &bytes),
        compute == CUDNN_DATA_FLOAT ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_NOT_SUPPORTED)
        << "compute type " << compute;
  }
  cudnnDestroyConvolutionDescriptor(conv);
  cudnnDestroyFilterDescriptor(w);
  cudnnDestroyTensorDescriptor(x);
  cudnnDestroyTensorDescriptor(y);
  EXPECT_EQ(cudnnDestroy(dh), CUDNN_STATUS_SUCCESS);
}

}  // namespace
}  // namespace lits::emu_test
