// Error names of the CUDA libraries, turned into lits::Error.
#include "engine/cuda_check.h"

#include "engine/error.h"

#if LITS_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

namespace lits::detail {

std::string current_cuda_device() {
#if LITS_HAVE_CUDA
  int d = -1;
  if (cudaGetDevice(&d) == cudaSuccess) return "cuda:" + std::to_string(d);
#endif
  return "cuda:?";
}

namespace {

std::string library_error_name([[maybe_unused]] kernels::Library library, int code) {
#if LITS_HAVE_CUDA
  switch (library) {
    case kernels::Library::kCuda: {
      const auto e = static_cast<cudaError_t>(code);
      return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
    }
    case kernels::Library::kCublas:
      return std::string(cublasGetStatusName(static_cast<cublasStatus_t>(code))) + " (" +
             cublasGetStatusString(static_cast<cublasStatus_t>(code)) + ")";
    case kernels::Library::kCudnn: return cudnnGetErrorString(static_cast<cudnnStatus_t>(code));
  }
#endif
  return "error " + std::to_string(code);
}

const char* library_name(kernels::Library library) {
  switch (library) {
    case kernels::Library::kCuda: return "CUDA";
    case kernels::Library::kCublas: return "cuBLAS";
    case kernels::Library::kCudnn: return "cuDNN";
  }
  return "?";
}

}  // namespace

void throw_library_error(kernels::Library library, int code, const char* statement, const char* file, int line,
                         const std::string& device) {
  throw_error(std::string(library_name(library)) + " error " + library_error_name(library, code) + " in `" + statement +
                  "` on " + device,
              nullptr, file, line);
}

}  // namespace lits::detail

namespace lits {

void check_kernel_status(const kernels::Status& status, const char* op, Device device) {
  if (status.ok()) return;
  try {
    detail::throw_library_error(status.library, status.code, status.statement, status.file, status.line, device.str());
  } catch (const Error& e) {
    throw Error(std::string(op) + ": " + e.what());
  }
}

}  // namespace lits
