// cuBLAS on the emulated device (cublas.h). The GEMM is a plain triple loop in double: slow and
// obviously right, an oracle independent of the project's own CPU GEMM. TF32 compute reads float
// operands rounded to TF32 (to nearest, ties away); bfloat16 operands are read exactly. Checks, from the cuBLAS
// documentation of cublas<t>gemm: a live handle (CUBLAS_STATUS_NOT_INITIALIZED), m, n, k >= 0,
// a valid operation, lda >= max(1, rows of A as stored), ldb likewise, ldc >= max(1, m)
// (CUBLAS_STATUS_INVALID_VALUE). Beyond the documentation, every matrix must lie inside one live
// device allocation: on a GPU a host pointer or an overrun is an illegal address, reported here
// as CUBLAS_STATUS_EXECUTION_FAILED instead of reading host memory by luck.
#include "cuda_emu/cublas.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

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

// How a matrix's elements are stored, and how the product reads them.
enum class Elem { kF32, kF64, kBF16, kF32AsTf32 };
size_t elem_bytes(Elem e) { return e == Elem::kF64 ? 8 : e == Elem::kBF16 ? 2 : 4; }
double read(const void* p, size_t i, Elem e) {
  switch (e) {
    case Elem::kF64: return static_cast<const double*>(p)[i];
    case Elem::kF32: return static_cast<const float*>(p)[i];
    case Elem::kBF16: {
      const uint32_t u = static_cast<uint32_t>(static_cast<const uint16_t*>(p)[i]) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    case Elem::kF32AsTf32: {  // nearest, ties away from zero; Inf and NaN kept
      const float f = static_cast<const float*>(p)[i];
      uint32_t u;
      std::memcpy(&u, &f, 4);
      if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & ~0x1FFFu;
      float r;
      std::memcpy(&r, &u, 4);
      return r;
    }
  }
  return 0.0;
}

cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double al,
                    const void* A, Elem ea, int lda, const void* B, Elem eb, int ldb, double be, void* C, Elem ec,
                    int ldc) {
  if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (m < 0 || n < 0 || k < 0 || !valid_op(ta) || !valid_op(tb)) return CUBLAS_STATUS_INVALID_VALUE;
  // A is stored m x k (op N) or k x m (op T/C); B is k x n or n x k.
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  if (lda < std::max(1, a_rows) || ldb < std::max(1, b_rows) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (!lits_emu::stream_valid(h->stream)) return CUBLAS_STATUS_EXECUTION_FAILED;
  const bool reads_ab = k > 0 && al != 0.0;
  if ((reads_ab && (!lits_emu::is_device_range(A, span_bytes(a_rows, a_cols, lda, elem_bytes(ea))) ||
                    !lits_emu::is_device_range(B, span_bytes(b_rows, b_cols, ldb, elem_bytes(eb))))) ||
      !lits_emu::is_device_range(C, span_bytes(m, n, ldc, elem_bytes(ec))))
    return CUBLAS_STATUS_EXECUTION_FAILED;
  // Queued on the handle's stream with the scalars read now (host pointer mode), as cuBLAS does.
  lits_emu::enqueue(h->stream, [=] {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0.0;
        if (reads_ab)
          for (int p = 0; p < k; ++p) {
            const size_t ai = ta == CUBLAS_OP_N ? i + static_cast<size_t>(p) * lda : p + static_cast<size_t>(i) * lda;
            const size_t bi = tb == CUBLAS_OP_N ? p + static_cast<size_t>(j) * ldb : j + static_cast<size_t>(p) * ldb;
            acc += read(A, ai, ea) * read(B, bi, eb);
          }
        const size_t ci = i + static_cast<size_t>(j) * ldc;
        // beta == 0: C is not read, so NaN in fresh memory does not leak in (as BLAS specifies).
        const double old = be == 0.0 ? 0.0 : be * read(C, ci, ec);
        if (ec == Elem::kF64)
          static_cast<double*>(C)[ci] = al * acc + old;
        else
          static_cast<float*>(C)[ci] = static_cast<float>(al * acc + old);
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

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, size_t bytes) {
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (bytes > 0 && !lits_emu::is_device_range(workspace, bytes)) return CUBLAS_STATUS_INVALID_VALUE;
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
  if (!alpha || !beta) return live(h) ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_NOT_INITIALIZED;
  return gemm(h, ta, tb, m, n, k, *alpha, A, Elem::kF32, lda, B, Elem::kF32, ldb, *beta, C, Elem::kF32, ldc);
}

cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  if (!alpha || !beta) return live(h) ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_NOT_INITIALIZED;
  return gemm(h, ta, tb, m, n, k, *alpha, A, Elem::kF64, lda, B, Elem::kF64, ldb, *beta, C, Elem::kF64, ldc);
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void* alpha, const void* A, cudaDataType at, int lda, const void* B, cudaDataType bt,
                            int ldb, const void* beta, void* C, cudaDataType ct, int ldc, cublasComputeType_t compute,
                            cublasGemmAlgo_t algo) {
  if (!live(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!alpha || !beta || algo != CUBLAS_GEMM_DEFAULT) return CUBLAS_STATUS_INVALID_VALUE;
  const bool f32 = compute == CUBLAS_COMPUTE_32F || compute == CUBLAS_COMPUTE_32F_PEDANTIC;
  Elem ea, eb;
  if (at == CUDA_R_32F && bt == CUDA_R_32F && ct == CUDA_R_32F && (f32 || compute == CUBLAS_COMPUTE_32F_FAST_TF32)) {
    ea = eb = compute == CUBLAS_COMPUTE_32F_FAST_TF32 ? Elem::kF32AsTf32 : Elem::kF32;
  } else if (at == CUDA_R_16BF && bt == CUDA_R_16BF && ct == CUDA_R_32F && compute == CUBLAS_COMPUTE_32F) {
    ea = eb = Elem::kBF16;
  } else {
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  // The scale type of these compute types is float.
  return gemm(h, ta, tb, m, n, k, *static_cast<const float*>(alpha), A, ea, lda, B, eb, ldb,
              *static_cast<const float*>(beta), C, Elem::kF32, ldc);
}
