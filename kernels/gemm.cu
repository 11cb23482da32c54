// CUDA GEMM through cuBLAS (column-major): a row-major C = op(A) op(B) is the column-major
// C^T = op(B)^T op(A)^T, so the operands are passed swapped. Float32 math modes
// (kernels/precision.h): kFp32 cublasSgemm; kTf32 cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32;
// kBf16 A and B converted to bfloat16 in the workspace, cublasGemmEx with float32 C and compute.
#include <cublas_v2.h>

#include <algorithm>

#include "kernels/cuda_launch.h"
#include "kernels/gemm.h"
#include "kernels/precision.h"

namespace lits::kernels {

namespace {

// The float32 product in TF32 or bfloat16 (the operands staged in the workspace).
Status gemm_ex(CublasHandle handle, cublasOperation_t ta, cublasOperation_t tb, int64_t M, int64_t N, int64_t K,
               const float* A, int lda, const float* B, int ldb, float* C, MathMode math, const Workspace& ws) {
  const float one = 1.0f, zero = 0.0f;
  const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K), ldc = static_cast<int>(N);
  if (math == MathMode::kTf32) {
    LITS_KERNEL_TRY(Library::kCublas,
                    cublasGemmEx(handle, tb, ta, m, n, k, &one, B, CUDA_R_32F, ldb, A, CUDA_R_32F, lda, &zero, C,
                                 CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    return Status{};
  }
  if (!ws.get)
    return Status{static_cast<int>(CUBLAS_STATUS_INVALID_VALUE), Library::kCublas, "a bfloat16 GEMM needs a workspace",
                  __FILE__, __LINE__};
  const int64_t na = M * K, nb = K * N, ba = (na * 2 + 255) / 256 * 256;
  auto* scratch = static_cast<char*>(ws.get(ws.owner, ba + nb * 2));
  auto* a16 = reinterpret_cast<uint16_t*>(scratch);
  auto* b16 = reinterpret_cast<uint16_t*>(scratch + ba);
  cudaStream_t stream = nullptr;
  LITS_KERNEL_TRY(Library::kCublas, cublasGetStream(handle, &stream));
  Status st = float_to_bf16_cuda(A, a16, na, stream);
  if (st.ok()) st = float_to_bf16_cuda(B, b16, nb, stream);
  if (!st.ok()) return st;
  LITS_KERNEL_TRY(Library::kCublas,
                  cublasGemmEx(handle, tb, ta, m, n, k, &one, b16, CUDA_R_16BF, ldb, a16, CUDA_R_16BF, lda, &zero, C,
                               CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return Status{};
}

}  // namespace

template <typename T>
Status gemm_cuda(CublasHandle handle, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                 const T* B, T* C, MathMode math, const Workspace& ws) {
  if (M == 0 || N == 0) return Status{};
  const cublasOperation_t ta = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // cuBLAS requires every leading dimension >= 1, even when K == 0 leaves A and B empty (C is then
  // zeroed, beta being 0): found on the emulated device, where lda = K = 0 was refused.
  const int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? M : K));
  const int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? K : N));
  const T one = T(1), zero = T(0);
  if constexpr (sizeof(T) == 4) {
    if (math != MathMode::kFp32 && K > 0) return gemm_ex(handle, ta, tb, M, N, K, A, lda, B, ldb, C, math, ws);
    LITS_KERNEL_TRY(Library::kCublas,
                    cublasSgemm(handle, tb, ta, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &one, B,
                                ldb, A, lda, &zero, C, static_cast<int>(N)));
  } else {
    LITS_KERNEL_TRY(Library::kCublas,
                    cublasDgemm(handle, tb, ta, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &one, B,
                                ldb, A, lda, &zero, C, static_cast<int>(N)));
  }
  return Status{};
}

template Status gemm_cuda<float>(CublasHandle, bool, bool, int64_t, int64_t, int64_t, const float*, const float*,
                                 float*, MathMode, const Workspace&);
template Status gemm_cuda<double>(CublasHandle, bool, bool, int64_t, int64_t, int64_t, const double*, const double*,
                                  double*, MathMode, const Workspace&);

}  // namespace lits::kernels
