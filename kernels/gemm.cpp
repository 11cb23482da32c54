// CPU GEMM: OpenBLAS (cblas) when LITS_HAVE_BLAS, else an i-k-j loop over rows in parallel.
#include "kernels/gemm.h"

#include <string>
#include <vector>

#include "kernels/parallel.h"

#if LITS_HAVE_BLAS
#include <cblas.h>
#endif

namespace lits::kernels {

template <typename T>
void gemm_reference_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  // Bring B to [K, N] so the inner loop runs along contiguous rows of B and C.
  std::vector<T> bt;
  if (trans_b) {
    bt.resize(static_cast<size_t>(K * N));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) bt[k * N + n] = B[n * K + k];
    B = bt.data();
  }
  parallel_for(
      M,
      [&](int64_t i) {
        T* c = C + i * N;
        for (int64_t j = 0; j < N; ++j) c[j] = T(0);
        for (int64_t k = 0; k < K; ++k) {
          const T a = trans_a ? A[k * M + i] : A[i * K + k];
          const T* b = B + k * N;
          for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
        }
      },
      8);
}

template <typename T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
#if LITS_HAVE_BLAS
  if (M > 0 && N > 0 && K > 0) {
    const auto ta = trans_a ? CblasTrans : CblasNoTrans;
    const auto tb = trans_b ? CblasTrans : CblasNoTrans;
    const blasint lda = static_cast<blasint>(trans_a ? M : K), ldb = static_cast<blasint>(trans_b ? K : N);
    if constexpr (sizeof(T) == 4)
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
    else
      cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, N);
    return;
  }
#endif
  gemm_reference_cpu(trans_a, trans_b, M, N, K, A, B, C);
}

const char* gemm_cpu_backend() {
#if LITS_HAVE_BLAS
  static const std::string name = std::string("OpenBLAS ") + openblas_get_config();
  return name.c_str();
#else
  return "own kernel (built without BLAS)";
#endif
}

template void gemm_cpu<float>(bool, bool, int64_t, int64_t, int64_t, const float*, const float*, float*);
template void gemm_cpu<double>(bool, bool, int64_t, int64_t, int64_t, const double*, const double*, double*);
template void gemm_reference_cpu<float>(bool, bool, int64_t, int64_t, int64_t, const float*, const float*, float*);
template void gemm_reference_cpu<double>(bool, bool, int64_t, int64_t, int64_t, const double*, const double*, double*);

}  // namespace lits::kernels
