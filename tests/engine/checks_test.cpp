// The error macros: LITS_CHECK, and the CUDA/cuBLAS/cuDNN checks carrying the statement, the
// library's error name, file:line and the device; kernel launch statuses turned into errors.
#include <gtest/gtest.h>

#include "engine/cuda_check.h"
#include "engine/error.h"
#include "tests/support/errors.h"

#if LITS_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

namespace lits::testing {
namespace {

TEST(Checks, LitsCheckCarriesMessageConditionAndPlace) {
  const int channels = 3;
  const std::string m = error_of([&] { LITS_CHECK(channels % 2 == 0, "channels " << channels << " must be even"); });
  EXPECT_NE(m.find("channels 3 must be even"), std::string::npos) << m;
  EXPECT_NE(m.find("channels % 2 == 0"), std::string::npos) << m;
  EXPECT_NE(m.find("tests/engine/checks_test.cpp:"), std::string::npos) << m;
}

TEST(Checks, KernelStatusBecomesAnErrorNamingOpAndDevice) {
  const kernels::Status bad{2, kernels::Library::kCuda, "my_kernel<<<...>>>", "kernels/x.cu", 12};
  const std::string m = error_of([&] { check_kernel_status(bad, "relu", Device::cuda(1)); });
  for (const char* part : {"relu", "my_kernel<<<...>>>", "cuda:1", "kernels/x.cu:12"})
    EXPECT_NE(m.find(part), std::string::npos) << "missing '" << part << "' in " << m;
  EXPECT_NO_THROW(check_kernel_status(kernels::Status{}, "relu", Device::cuda(0)));
}

#if LITS_HAVE_CUDA
TEST(Checks, CudaCheckNamesStatementErrorAndDevice) {
  // Device 9999 never exists: invalid device with a GPU, insufficient driver without one.
  const std::string m = error_of([] { LITS_CUDA_CHECK(cudaSetDevice(9999)); });
  for (const char* part : {"CUDA error cuda", "cudaSetDevice(9999)", "checks_test.cpp:", " on cuda:"})
    EXPECT_NE(m.find(part), std::string::npos) << "missing '" << part << "' in " << m;
  cudaGetLastError();
}

TEST(Checks, CublasCheckNamesTheStatus) {
  const float one = 1.0f;
  const std::string m = error_of([&] {
    LITS_CUBLAS_CHECK(
        cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, nullptr, 1, nullptr, 1, &one, nullptr, 1));
  });
  EXPECT_NE(m.find("cuBLAS error CUBLAS_STATUS_NOT_INITIALIZED"), std::string::npos) << m;
  EXPECT_NE(m.find("cublasSgemm"), std::string::npos) << m;  // cublas_v2.h maps it to cublasSgemm_v2
}

TEST(Checks, CudnnCheckNamesTheStatus) {
  cudnnTensorDescriptor_t desc = nullptr;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&desc), CUDNN_STATUS_SUCCESS);  // host-only, works without a GPU
  const std::string m = error_of(
      [&] { LITS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, -1, 3, 4, 4)); });
  cudnnDestroyTensorDescriptor(desc);
  EXPECT_NE(m.find("cuDNN error CUDNN_STATUS_BAD_PARAM"), std::string::npos) << m;
  EXPECT_NE(m.find("cudnnSetTensor4dDescriptor"), std::string::npos) << m;
}
#endif

}  // namespace
}  // namespace lits::testing
