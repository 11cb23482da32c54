// Checks for CUDA, cuBLAS and cuDNN calls made in the engine, and the conversion of a kernel
// launcher's Status into lits::Error. The thrown message carries the failing statement, the
// library's own error name, file:line and the device.
#pragma once

#include <string>

#include "engine/device.h"
#include "kernels/common.h"

namespace lits::detail {

// Current CUDA device as "cuda:N" (or "cuda:?" when even that query fails).
std::string current_cuda_device();
[[noreturn]] void throw_library_error(kernels::Library library, int code, const char* statement, const char* file,
                                      int line, const std::string& device);

}  // namespace lits::detail

namespace lits {

// Throws when a kernel launcher reported a failure; `op` names the engine op that launched it.
void check_kernel_status(const kernels::Status& status, const char* op, Device device);

}  // namespace lits

#define LITS_LIBRARY_CHECK_(library, statement)                                                \
  do {                                                                                         \
    const int lits_code_ = static_cast<int>(statement);                                        \
    if (lits_code_ != 0)                                                                       \
      ::lits::detail::throw_library_error(library, lits_code_, #statement, __FILE__, __LINE__, \
                                          ::lits::detail::current_cuda_device());              \
  } while (0)

#define LITS_CUDA_CHECK(statement) LITS_LIBRARY_CHECK_(::lits::kernels::Library::kCuda, statement)
#define LITS_CUBLAS_CHECK(statement) LITS_LIBRARY_CHECK_(::lits::kernels::Library::kCublas, statement)
#define LITS_CUDNN_CHECK(statement) LITS_LIBRARY_CHECK_(::lits::kernels::Library::kCudnn, statement)
