// Row-major GEMM: C[M, N] = op(A) op(B), op(A) = A [M, K] or A^T (A stored [K, M]), op(B) = B [K, N]
// or B^T (B stored [N, K]). Overwrites C. CPU: OpenBLAS when built with it, else the project's
// own blocked loop (also the test oracle); CUDA: cuBLAS.
#pragma once

#include <cstdint>

#include "kernels/common.h"
#include "kernels/precision.h"

namespace lits::kernels {

template <typename T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C);
// The project's own kernel, used by gemm_cpu when there is no BLAS.
template <typename T>
void gemm_reference_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C);
// "OpenBLAS <config>" or "own kernel (built without BLAS)".
const char* gemm_cpu_backend();

// `handle` already bound to the stream by the engine's device context. `math` applies to float
// (kernels/precision.h); kBf16 stages A and B in `ws`, so it needs one.
template <typename T>
Status gemm_cuda(CublasHandle handle, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                 const T* B, T* C, MathMode math = MathMode::kFp32, const Workspace& ws = Workspace{});

}  // namespace lits::kernels
