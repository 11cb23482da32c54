// kernels/gemm.cu (row-major GEMM through cuBLAS's column-major call) on the emulated device, whose
// cuBLAS (cublas.cpp) is an independent triple loop, against the CPU twin; and the argument checks
// that make a wrong call a cuBLAS status instead of a wrong result.
#include "cuda_emu/cublas.h"
#include "kernels/gemm.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

template <typename T>
class EmuGemm : public ::testing::Test {};
TYPED_TEST_SUITE(EmuGemm, Types);

// cuBLAS's column-major GEMM on a handle of its own, bound to a stream.
class Handle {
 public:
  Handle() {
    EXPECT_EQ(cudaStreamCreate(&stream_), cudaSuccess);
    EXPECT_EQ(cublasCreate(&h_), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cublasSetStream(h_, stream_), CUBLAS_STATUS_SUCCESS);
  }
  ~Handle() {
    EXPECT_EQ(cublasDestroy(h_), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cudaStreamDestroy(stream_), cudaSuccess);
  }
  cublasHandle_t get() const { return h_; }

 private:
  cudaStream_t stream_ = nullptr;
  cublasHandle_t h_ = nullptr;
};

TYPED_TEST(EmuGemm, EveryTransposeAndShape) {
  using T = TypeParam;
  Handle h;
  const int64_t shapes[][3] = {{1, 1, 1}, {17, 33, 9}, {64, 3, 130}, {5, 7, 0}, {0, 4, 3}, {4, 0, 3}, {2, 300, 257}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& s : shapes) {
        const int64_t M = s[0], N = s[1], K = s[2];
        const auto a = uniform<T>(static_cast<size_t>(M * K), 100), b = uniform<T>(static_cast<size_t>(K * N), 101);
        std::vector<T> c(static_cast<size_t>(M * N));
        kernels::gemm_cpu(ta, tb, M, N, K, a.data(), b.data(), c.data());
        Device<T> da(a), db(b), dc(c.size());
        expect_ok(kernels::gemm_cuda(h.get(), ta, tb, M, N, K, da.get(), db.get(), dc.get()));
        // The CPU GEMM adds K products in T; the emulated cuBLAS in double.
        expect_close(c, dc.host(),
                     "gemm " + std::string(ta ? "T" : "N") + (tb ? "T" : "N") + " M " + std::to_string(M) + " N " +
                         std::to_string(N) + " K " + std::to_string(K),
                     std::is_same_v<T, float> ? 1e-4 : 1e-12);
      }
}

TEST(EmuCublas, ArgumentsAreCheckedAsDocumented) {
  Handle h;
  Device<float> a(12), b(12), c(12);
  const float one = 1.0f, zero = 0.0f;
  // 3 x 4 times 4 x 3: lda must be >= 3 (rows of A), ldb >= 4, ldc >= 3.
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 3, 3, 4, &one, a.get(), 3, b.get(), 4, &zero, c.get(), 3),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 3, 3, 4, &one, a.get(), 2, b.get(), 4, &zero, c.get(), 3),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_T, CUBLAS_OP_N, 3, 3, 4, &one, a.get(), 3, b.get(), 4, &zero, c.get(), 3),
            CUBLAS_STATUS_INVALID_VALUE)
      << "A^T is stored 4 x 3: lda must be at least 4";
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, -1, 3, 4, &one, a.get(), 3, b.get(), 4, &zero, c.get(), 3),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(h.get(), static_cast<cublasOperation_t>(7), CUBLAS_OP_N, 3, 3, 4, &one, a.get(), 3, b.get(), 4,
                        &zero, c.get(), 3),
            CUBLAS_STATUS_INVALID_VALUE);
  // 4 x 4 with ld 4 spans 16 floats: past the 12 of each allocation.
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), 4, b.get(), 4, &zero, c.get(), 4),
            CUBLAS_STATUS_EXECUTION_FAILED);
  std::vector<float> host(12);
  EXPECT_EQ(
      cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 3, 3, 4, &one, host.data(), 3, b.get(), 4, &zero, c.get(), 3),
      CUBLAS_STATUS_EXECUTION_FAILED)
      << "a host pointer";
  cublasHandle_t dead = nullptr;
  ASSERT_EQ(cublasCreate(&dead), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasDestroy(dead), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasSgemm(dead, CUBLAS_OP_N, CUBLAS_OP_N, 3, 3, 4, &one, a.get(), 3, b.get(), 4, &zero, c.get(), 3),
            CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_EQ(cublasSetStream(h.get(), reinterpret_cast<cudaStream_t>(&host)), CUBLAS_STATUS_INVALID_VALUE);
}

}  // namespace
}  // namespace lits::emu_test
