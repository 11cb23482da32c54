// Per-device CUDA context: the stream every op runs on, the cuBLAS and cuDNN handles bound to
// it, and one grow-only workspace (for cuDNN algorithms). Created on first use of a device.
#pragma once

#include <cstdint>
#include <string>

#include "engine/device.h"
#include "kernels/common.h"

namespace lits::cuda {

class Context {
 public:
  int device() const { return device_; }
  kernels::Stream stream() const { return stream_; }
  kernels::CublasHandle cublas();
  kernels::CudnnHandle cudnn();  // created lazily: cuDNN start-up is slow
  // At least `bytes` of device scratch, valid until the next call (grows, never shrinks).
  void* workspace(int64_t bytes);
  int64_t workspace_bytes() const { return workspace_bytes_; }

  explicit Context(int device);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  int device_ = 0;
  kernels::Stream stream_ = nullptr;
  kernels::CublasHandle cublas_ = nullptr;
  kernels::CudnnHandle cudnn_ = nullptr;
  void* workspace_ = nullptr;
  int64_t workspace_bytes_ = 0;
  static constexpr int64_t kCublasWorkspace = 32 << 20;
  void* cublas_workspace_ = nullptr;
};

// The context of `device` (a CUDA device); throws lits::Error when no GPU is usable.
Context& context(const Device& device);
// Waits for all work queued on the device's stream.
void synchronize(const Device& device);
// "CUDA runtime 13000, cuBLAS 130100, cuDNN 91900, NCCL 22809" (what this build links), or why
// there is no CUDA backend.
std::string library_versions();
// "NVIDIA H200, sm_90, 139.8 GiB" etc.; empty when there is no GPU.
std::string device_description(int device);

}  // namespace lits::cuda
