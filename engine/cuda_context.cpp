// CUDA context creation and teardown (or clear errors in builds without CUDA).
#include "engine/cuda_context.h"

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/allocator.h"
#include "engine/error.h"

#if LITS_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "engine/cuda_check.h"
#if LITS_HAVE_NCCL
#include <nccl.h>
#endif
#endif

namespace lits::cuda {

#if LITS_HAVE_CUDA

Context::Context(int device) : device_(device) {
  LITS_CUDA_CHECK(cudaSetDevice(device));
  LITS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

Context::~Context() {
  // Destructors never throw: errors at teardown are ignored.
  if (workspace_) device_deallocate(Device::cuda(device_), workspace_, workspace_bytes_);
  if (cublas_workspace_) device_deallocate(Device::cuda(device_), cublas_workspace_, kCublasWorkspace);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

kernels::CublasHandle Context::cublas() {
  if (!cublas_) {
    LITS_CUDA_CHECK(cudaSetDevice(device_));
    LITS_CUBLAS_CHECK(cublasCreate(&cublas_));
    LITS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    // A workspace of its own, so cuBLAS never allocates inside a CUDA graph capture (32 MiB, NVIDIA's
    // recommendation for Hopper).
    cublas_workspace_ = device_allocate(Device::cuda(device_), kCublasWorkspace);
    LITS_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_, static_cast<size_t>(kCublasWorkspace)));
  }
  return cublas_;
}

kernels::CudnnHandle Context::cudnn() {
  if (!cudnn_) {
    LITS_CUDA_CHECK(cudaSetDevice(device_));
    LITS_CUDNN_CHECK(cudnnCreate(&cudnn_));
    LITS_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  }
  return cudnn_;
}

void* Context::workspace(int64_t bytes) {
  if (bytes > workspace_bytes_) {
    if (workspace_) device_deallocate(Device::cuda(device_), workspace_, workspace_bytes_);
    workspace_ = nullptr;
    workspace_bytes_ = 0;
    workspace_ = device_allocate(Device::cuda(device_), bytes);
    workspace_bytes_ = bytes;
  }
  return workspace_;
}

Context& context(const Device& device) {
  LITS_CHECK(device.is_cuda(), "CUDA context requested for " << device.str());
  LITS_CHECK(cuda_available(), "no usable GPU for " << device.str() << ": " << cuda_unavailable_reason());
  LITS_CHECK(device.index >= 0 && device.index < cuda_device_count(),
             device.str() << " does not exist (" << cuda_device_count() << " CUDA device(s))");
  // Never destroyed: at exit the driver may be gone before static destructors run, and a context's
  // teardown frees its workspace into the allocator's pools, which may already be destroyed (that
  // hung the process at exit, seen on the emulated device). The process's end frees it all.
  static auto* const mutex = new std::mutex;
  static auto* const contexts = new std::map<int, std::unique_ptr<Context>>;
  std::lock_guard<std::mutex> lock(*mutex);
  auto& c = (*contexts)[device.index];
  if (!c) c = std::make_unique<Context>(device.index);
  LITS_CUDA_CHECK(cudaSetDevice(device.index));
  return *c;
}

void synchronize(const Device& device) {
  if (!device.is_cuda()) return;
  LITS_CUDA_CHECK(cudaStreamSynchronize(context(device).stream()));
}

std::string device_description(int device) {
  if (device < 0 || device >= cuda_device_count()) return "";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "";
  char mem[32];
  std::snprintf(mem, sizeof mem, "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1ull << 30));
  return std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " + mem;
}

std::string library_versions() {
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  int cublas = 0;
  cublasGetProperty(MAJOR_VERSION, &cublas);
  int cublas_minor = 0;
  cublasGetProperty(MINOR_VERSION, &cublas_minor);
  std::string s = "CUDA runtime " + std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10) +
                  ", cuBLAS " + std::to_string(cublas) + "." + std::to_string(cublas_minor) + ", cuDNN " +
                  std::to_string(cudnnGetVersion());
#if LITS_HAVE_NCCL
  int nccl = 0;
  ncclGetVersion(&nccl);
  s += ", NCCL " + std::to_string(nccl);
#else
  s += ", NCCL not found at build time";
#endif
  return s;
}

#else

std::string library_versions() { return cuda_unavailable_reason(); }

Context::Context(int device) : device_(device) { LITS_THROW("cuda:" << device << ": " << cuda_unavailable_reason()); }
Context::~Context() = default;
kernels::CublasHandle Context::cublas() { return nullptr; }
kernels::CudnnHandle Context::cudnn() { return nullptr; }
void* Context::workspace(int64_t) { return nullptr; }
Context& context(const Device& device) { LITS_THROW(device.str() << ": " << cuda_unavailable_reason()); }
void synchronize(const Device&) {}
std::string device_description(int) { return ""; }

#endif

}  // namespace lits::cuda
