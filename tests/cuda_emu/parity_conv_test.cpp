// kernels/conv.cu (cuDNN's legacy API: descriptors, the v7 heuristics, cached algorithm choice,
// workspaces) on the emulated device, whose cuDNN (cudnn.cpp) is an independent direct loop, against
// the CPU convolutions; and the argument checks that turn a wrong call into a cuDNN status.
#include <memory>

#include "cuda_emu/cudnn.h"
#include "kernels/conv.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

template <typename T>
class EmuConv : public ::testing::Test {};
TYPED_TEST_SUITE(EmuConv, Types);

class Handle {
 public:
  Handle() {
    EXPECT_EQ(cudaStreamCreate(&stream_), cudaSuccess);
    EXPECT_EQ(cudnnCreate(&h_), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetStream(h_, stream_), CUDNN_STATUS_SUCCESS);
  }
  ~Handle() {
    EXPECT_EQ(cudnnDestroy(h_), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudaStreamDestroy(stream_), cudaSuccess);
  }
  cudnnHandle_t get() const { return h_; }

 private:
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t h_ = nullptr;
};

kernels::ConvShape shape(int64_t N, int64_t Ci, int64_t H, int64_t W, int64_t Co, int64_t K, int64_t stride,
                         int64_t pad, int64_t dil) {
  kernels::ConvShape s;
  s.N = N, s.Ci = Ci, s.H = H, s.W = W, s.Co = Co, s.K = K, s.stride = stride, s.pad = pad, s.dil = dil;
  s.Ho = kernels::conv_out_size(H, K, stride, pad, dil);
  s.Wo = kernels::conv_out_size(W, K, stride, pad, dil);
  return s;
}

TYPED_TEST(EmuConv, ForwardBackwardDataAndWeight) {
  using T = TypeParam;
  Handle h;
  Scratch scratch;
  const kernels::Workspace ws{&Scratch::get, &scratch};
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  // 3x3 same, strided, dilated, 1x1, and the UNet's 4x4 stride-2 upsampler geometry.
  for (const auto& s :
       {shape(2, 3, 8, 9, 4, 3, 1, 1, 1), shape(1, 2, 9, 7, 3, 3, 2, 1, 1), shape(2, 2, 10, 10, 2, 3, 1, 2, 2),
        shape(1, 4, 5, 5, 6, 1, 1, 0, 1), shape(1, 2, 16, 16, 2, 4, 2, 1, 1)})
    for (bool deterministic : {false, true}) {
      const size_t nx = static_cast<size_t>(s.N * s.Ci * s.H * s.W), nw = static_cast<size_t>(s.Co * s.Ci * s.K * s.K),
                   ny = static_cast<size_t>(s.N * s.Co * s.Ho * s.Wo);
      const auto x = uniform<T>(nx, 110), w = uniform<T>(nw, 111), bias = uniform<T>(static_cast<size_t>(s.Co), 112),
                 dy = uniform<T>(ny, 113);
      std::vector<T> y(ny), dx(nx), dw(nw);
      kernels::conv2d_forward_cpu(s, x.data(), w.data(), bias.data(), y.data());
      kernels::conv2d_backward_data_cpu(s, dy.data(), w.data(), dx.data());
      kernels::conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw.data());
      Device<T> dX(x), dW(w), dB(bias), dDy(dy), dY(ny), dDx(nx), dDw(nw);
      const std::string what = "Ci " + std::to_string(s.Ci) + " " + std::to_string(s.H) + "x" + std::to_string(s.W) +
                               " K " + std::to_string(s.K) + " stride " + std::to_string(s.stride) + " pad " +
                               std::to_string(s.pad) + " dil " + std::to_string(s.dil) +
                               (deterministic ? " deterministic" : "");
      expect_ok(kernels::conv2d_forward_cuda(h.get(), s, dX.get(), dW.get(), dB.get(), dY.get(), ws));
      expect_close(y, dY.host(), "conv forward " + what, tol);
      expect_ok(kernels::conv2d_backward_data_cuda(h.get(), s, dDy.get(), dW.get(), dDx.get(), ws, deterministic));
      expect_close(dx, dDx.host(), "conv backward data " + what, tol);
      expect_ok(kernels::conv2d_backward_weight_cuda(h.get(), s, dX.get(), dDy.get(), dDw.get(), ws, deterministic));
      expect_close(dw, dDw.host(), "conv backward weight " + what, tol);
    }
}

// Descriptors for a 1 x 2 x 5 x 5 input, 3 filters of 3 x 3, padding 1: output 1 x 3 x 5 x 5.
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  Descs() {
    EXPECT_EQ(cudnnCreateTensorDescriptor(&x), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateTensorDescriptor(&y), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateFilterDescriptor(&w), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnCreateConvolutionDescriptor(&conv), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 2, 5, 5), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 5, 5), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 3, 2, 3, 3), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              CUDNN_STATUS_SUCCESS);
  }
  ~Descs() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
};

TEST(EmuCudnn, ArgumentsAreCheckedAsDocumented) {
  Handle h;
  Descs d;
  Device<float> x(50), w(54), y(75), ws(4096);
  const float one = 1.0f, zero = 0.0f;
  const auto algo = CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
  size_t need = 0;
  ASSERT_EQ(cudnnGetConvolutionForwardWorkspaceSize(h.get(), d.x, d.w, d.conv, d.y, algo, &need), CUDNN_STATUS_SUCCESS);
  ASSERT_GT(need, 0u);
  EXPECT_EQ(cudnnConvolutionForward(h.get(), &one, d.x, x.get(), d.w, w.get(), d.conv, algo, ws.get(), need, &zero, d.y,
                                    y.get()),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnConvolutionForward(h.get(), &one, d.x, x.get(), d.w, w.get(), d.conv, algo, ws.get(), need - 1, &zero,
                                    d.y, y.get()),
            CUDNN_STATUS_BAD_PARAM)
      << "a workspace one byte short of the queried size";
  std::vector<float> host(75);
  EXPECT_EQ(cudnnConvolutionForward(h.get(), &one, d.x, x.get(), d.w, w.get(), d.conv, algo, ws.get(), need, &zero, d.y,
                                    host.data()),
            CUDNN_STATUS_EXECUTION_FAILED)
      << "a host pointer for y";
  // An output descriptor of the wrong size, a channel mismatch, an unsupported math/type pair.
  ASSERT_EQ(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 4, 5), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(h.get(), d.x, d.w, d.conv, d.y, algo, &need),
            CUDNN_STATUS_BAD_PARAM);
  ASSERT_EQ(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 5, 5), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 3, 1, 3, 3), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(h.get(), d.x, d.w, d.conv, d.y, algo, &need),
            CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 0, 2, 5, 5), CUDNN_STATUS_BAD_PARAM)
      << "cuDNN tensors have no zero dimension";
  EXPECT_EQ(cudnnSetConvolution2dDescriptor(d.conv, 1, 1, 0, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            CUDNN_STATUS_BAD_PARAM)
      << "stride 0";
  EXPECT_EQ(cudnnSetConvolutionMathType(d.conv, static_cast<cudnnMathType_t>(9)), CUDNN_STATUS_BAD_PARAM);
}

// cudnnFind: only the algorithms whose workspace fits are listed, the output is written, and inside a
// stream capture it fails (it waits for the device) and invalidates the capture.
TEST(EmuCudnn, FindListsWhatFitsAndWritesTheOutput) {
  Handle h;
  Descs d;
  const auto x = uniform<float>(50, 31), w = uniform<float>(54, 32);
  Device<float> dx(x), dw(w), dy(75), ws(1 << 16);
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int n = 0;
  ASSERT_EQ(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnFindConvolutionForwardAlgorithmEx(h.get(), d.x, dx.get(), d.w, dw.get(), d.conv, d.y, dy.get(),
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, ws.get(), 1 << 16),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(n, 3);
  kernels::ConvShape s;
  s.N = 1, s.Ci = 2, s.H = 5, s.W = 5, s.Co = 3, s.K = 3, s.Ho = 5, s.Wo = 5, s.pad = 1;
  std::vector<float> y(75);
  kernels::conv2d_forward_cpu(s, x.data(), w.data(), static_cast<const float*>(nullptr), y.data());
  expect_close(y, dy.host(), "cudnnFind's output");
  // No workspace: only the algorithm that needs none.
  ASSERT_EQ(cudnnFindConvolutionForwardAlgorithmEx(h.get(), d.x, dx.get(), d.w, dw.get(), d.conv, d.y, dy.get(),
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, nullptr, 0),
            CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(n, 1);
  EXPECT_EQ(perf[0].algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  cudaStream_t s2 = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s2), cudaSuccess);
  ASSERT_EQ(cudnnSetStream(h.get(), s2), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudaStreamBeginCapture(s2, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudnnFindConvolutionForwardAlgorithmEx(h.get(), d.x, dx.get(), d.w, dw.get(), d.conv, d.y, dy.get(),
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, ws.get(), 1 << 16),
            CUDNN_STATUS_EXECUTION_FAILED);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s2, &graph), cudaErrorStreamCaptureInvalidated);
  cudaGetLastError();
  EXPECT_EQ(cudaStreamDestroy(s2), cudaSuccess);
}

}  // namespace
}  // namespace lits::emu_test
