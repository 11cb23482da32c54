// cuBLAS on the emulated device (cublas.h). The GEMM is a plain triple loop in double: slow and
// obviously right, an oracle independent of the project's own CPU GEMM. Checks, from the cuBLAS
// documentation of cublas<t>gemm: a live handle (CUBLAS_STATUS_NOT_INITIALIZED), m, n, k >= 0,
// a valid operation, lda >= max(1, rows of A as stored), ldb likewise, ldc >= max(1, m)
// (CUBLAS_STATUS_INVALID_VALUE). Beyond the documentation, every matrix must lie inside one live
// device allocation: on a GPU a host pointer or an overrun is an illegal address, reported here
// as CUBLAS_STATUS_EXECUTION_FAILED instead of reading host memory by luck.
#include "cuda_emu/cublas.h"

#include <algorithm>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"
#include "cuda_emu/streams.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
};

namespace {

bool live(cublasHandle_t h) { return lits_emu::live_handle(h); }

bool valid_op(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

// Bytes a column-major matrix of `rows` x `cols` with leading dimension `ld` spans.
size_t span_bytes(int rows, int cols, int ld, size_t elem) {
  if (rows == 0 || cols == 0) return 0;
  return (static_cast<size_t>(cols - 1) * static_cast<size_t>(ld) + static_cast<size_t>(rows)) * elem;
}

template <typename T>
cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* alpha,
                    const T* A, int lda, const T* B, int ldb, const T* beta, T* C, int ldc) {
  if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || k < 0 || !valid_op(ta) || !valid_op(tb) || !alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  // A is stored m x k (op N) or k x m (op T/C); B is k x n or n x k.
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  if (lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (!lits_emu::stream_valid(h->stream)) return CUBLAS_STATUS_EXECUTION_FAILED;
  const bool reads_ab = k > 0 && *alpha != T(0);
  if ((reads_ab && (!lits_emu::is_device_range(A, span_bytes(a_rows, a_cols, lda, sizeof(T))) ||
                    !lits_emu::is_device_range(B, span_bytes(b_rows, b_cols, ldb, sizeof(T))))) ||
      !lits_emu::is_device_range(C, span_bytes(m, n, ldc, sizeof(T))))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  // Queued on the handle's stream with the scalars read now (host pointer mode), as cuBLAS does.
  const T al = *alpha, be = *beta;
  lits_emu::enqueue(h->stream, [=] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0.0;
        if (reads_ab)
          for (int p = 0; p < k; ++p) {
            const T a = ta == CUBLAS_OP_N ? A[i + static_cast<size_t>(p) * lda] : A[p + static_cast<size_t>(i) * lda];
            const T b = tb == CUBLAS_OP_N ? B[p + static_cast<size_t>(j) * ldb] : B[j + static_cast<size_t>(p) * ldb];
            acc += static_cast<double>(a) * static_cast<double>(b);
          }
        T& c = C[i + static_cast<size_t>(j) * ldc];
        // beta == 0: C is not read, so NaN in fresh memory does not leak in (as BLAS specifies).
        const double old = be == T(0) ? 0.0 : static_cast<double>(be) * static_cast<double>(c);
        c = static_cast<T>(static_cast<double>(al) * acc + old);
      }
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = lits_emu::make_handle(cublasContext{});
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  return lits_emu::drop_handle(handle) ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!lits_emu::stream_valid(stream)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value) {
  if (!value) return CUBLAS_STATUS_INVALID_VALUE;
  (void)type;
  *value = 0;  // version 0.0.0 in every part: not a real cuBLAS
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an unsupported value or parameter was passed to the function";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    default: return cublasGetStatusName(s);
  }
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
