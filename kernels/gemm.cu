// CUDA GEMM through cuBLAS (column-major): a row-major C = op(A) op(B) is the column-major
// C^T = op(B)^T op(A)^T, so the operands are passed swapped.
#include <cublas_v2.h>

#include <algorithm>

#include "kernels/cuda_launch.h"
#include "kernels/gemm.h"

namespace lits::kernels {

template <typename T>
Status gemm_cuda(CublasHandle handle, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                 const T* B, T* C) {
  if (M == 0 || N == 0) return Status{};
  const cublasOperation_t ta = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // cuBLAS requires every leading dimension >= 1, even when K == 0 leaves A and B empty (C is then
  // zeroed, beta being 0): found on the emulated device, where lda = K = 0 was refused.
  const int lda = static_cast<int>(std::max<int64_t>(1, trans_a ? M : K));
  const int ldb = static_cast<int>(std::max<int64_t>(1, trans_b ? K : N));
  const T one = T(1), zero = T(0);
  if constexpr (sizeof(T) == 4) {
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
                                 float*);
template Status gemm_cuda<double>(CublasHandle, bool, bool, int64_t, int64_t, int64_t, const double*, const double*,
                                  double*);

}  // namespace lits::kernels
