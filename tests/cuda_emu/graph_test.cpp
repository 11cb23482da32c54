// Stream capture and graphs on the emulated device (cuda_emu/graphs.cpp): a captured sequence of
// launches, copies and library calls replays exactly; the calls CUDA prohibits during capture fail and
// invalidate it, with the thread's capture mode deciding as documented.
#include <cmath>
#include <functional>
#include <thread>

#include "cuda_emu/cublas.h"
#include "kernels/precision.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

class Stream {
 public:
  Stream() { EXPECT_EQ(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), cudaSuccess); }
  ~Stream() { EXPECT_EQ(cudaStreamDestroy(s_), cudaSuccess); }
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

TEST(EmuGraphs, ACapturedSequenceReplaysExactly) {
  Stream s;
  const std::vector<float> x = uniform<float>(1000, 5);
  Device<float> in(x), back(x.size()), c(4);
  Device<uint16_t> half(x.size());
  float* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(reinterpret_cast<void**>(&pinned), 4 * sizeof(float), cudaHostAllocDefault), cudaSuccess);
  cublasHandle_t h = nullptr;
  ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(h, s.get()), CUBLAS_STATUS_SUCCESS);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;

  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaStreamIsCapturing(s.get(), &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  // The pinned buffer is read when the graph runs: the host sets it between launches.
  EXPECT_EQ(cudaMemcpyAsync(in.get(), pinned, 4 * sizeof(float), cudaMemcpyHostToDevice, s.get()), cudaSuccess);
  expect_ok(kernels::float_to_bf16_cuda(in.get(), half.get(), 1000, s.get()));
  expect_ok(kernels::bf16_to_float_cuda(half.get(), back.get(), 1000, s.get()));
  const float one = 1.0f, zero = 0.0f;  // c = back[0:2]^T back[0:2] as 2 x 1 by 1 x 2
  EXPECT_EQ(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 1, &one, back.get(), 2, back.get(), 1, &zero, c.get(), 2),
            CUBLAS_STATUS_SUCCESS);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaSuccess);
  EXPECT_EQ(cudaStreamIsCapturing(s.get(), &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  EXPECT_TRUE(std::isnan(back.host()[0])) << "nothing ran during capture: the poison of fresh memory is still there";
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph), cudaSuccess);
  for (int launch = 0; launch < 3; ++launch) {
    for (int i = 0; i < 4; ++i) pinned[i] = 0.5f + static_cast<float>(launch + i);
    ASSERT_EQ(cudaGraphLaunch(exec, s.get()), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(s.get()), cudaSuccess);
    const std::vector<float> b = back.host(), cc = c.host();
    for (size_t i = 0; i < x.size(); ++i) {
      const float src = i < 4 ? 0.5f + static_cast<float>(launch + static_cast<int>(i)) : x[i];
      ASSERT_EQ(b[i], kernels::round_to_bf16(src)) << "launch " << launch << " element " << i;
    }
    EXPECT_EQ(cc[0], b[0] * b[0]);
    EXPECT_EQ(cc[3], b[1] * b[1]);
  }
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
}

// Each prohibited call fails, and the capture it was made in can no longer end in a graph.
TEST(EmuGraphs, ProhibitedCallsInvalidateTheCapture) {
  Stream s;
  Device<float> d(16);
  std::vector<float> host(16);
  const auto prohibited = [&](const char* what, const std::function<cudaError_t()>& call) {
    ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
    EXPECT_EQ(call(), cudaErrorStreamCaptureUnsupported) << what;
    cudaGetLastError();
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    EXPECT_EQ(cudaStreamIsCapturing(s.get(), &status), cudaSuccess);
    EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated) << what;
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaErrorStreamCaptureInvalidated) << what;
    EXPECT_EQ(graph, nullptr);
    cudaGetLastError();
  };
  void* p = nullptr;
  prohibited("cudaMalloc", [&] { return cudaMalloc(&p, 64); });
  prohibited("cudaStreamSynchronize", [&] { return cudaStreamSynchronize(s.get()); });
  prohibited("cudaDeviceSynchronize", [&] { return cudaDeviceSynchronize(); });
  prohibited("a copy into pageable memory",
             [&] { return cudaMemcpyAsync(host.data(), d.get(), 64, cudaMemcpyDeviceToHost, s.get()); });
  prohibited("a copy from pageable memory",
             [&] { return cudaMemcpyAsync(d.get(), host.data(), 64, cudaMemcpyHostToDevice, s.get()); });
  prohibited("cudaMallocAsync on the capturing stream", [&] { return cudaMallocAsync(&p, 64, s.get()); });
  cudaEvent_t e = nullptr;
  ASSERT_EQ(cudaEventCreate(&e), cudaSuccess);
  prohibited("cudaEventRecord on the capturing stream", [&] { return cudaEventRecord(e, s.get()); });
  EXPECT_EQ(cudaEventDestroy(e), cudaSuccess);

  // Work on the legacy stream while capturing invalidates the capture too.
  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  expect_ok(kernels::float_to_bf16_cuda(d.get(), reinterpret_cast<uint16_t*>(d.get()), 4, nullptr));
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaErrorStreamCaptureInvalidated);
  cudaGetLastError();

  // Relaxed around an allocation, as an allocator does: allowed, and the capture stays valid.
  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeGlobal) << "the previous mode comes back";
  EXPECT_EQ(cudaMalloc(&p, 64), cudaSuccess);
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaSuccess);
  EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaSuccess);

  // A thread-local capture does not stop another thread's calls; a global one does.
  for (const cudaStreamCaptureMode m : {cudaStreamCaptureModeThreadLocal, cudaStreamCaptureModeGlobal}) {
    ASSERT_EQ(cudaStreamBeginCapture(s.get(), m), cudaSuccess);
    cudaError_t other = cudaSuccess;
    std::thread([&] {
      void* q = nullptr;
      other = cudaMalloc(&q, 64);
      if (q) cudaFree(q);
    }).join();
    EXPECT_EQ(other, m == cudaStreamCaptureModeGlobal ? cudaErrorStreamCaptureUnsupported : cudaSuccess);
    const cudaError_t end = cudaStreamEndCapture(s.get(), &graph);
    EXPECT_EQ(end, m == cudaStreamCaptureModeGlobal ? cudaErrorStreamCaptureInvalidated : cudaSuccess);
    if (end == cudaSuccess) {
      EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    }
    cudaGetLastError();
  }
}

}  // namespace
}  // namespace lits::emu_test
