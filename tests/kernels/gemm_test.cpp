// GEMM: the project's own kernel against a plain triple loop in double, for every transpose
// combination, and the built-in backend (OpenBLAS when present) against the own kernel.
#include "kernels/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lits::kernels {
namespace {

std::vector<double> naive(bool ta, bool tb, int M, int N, int K, const std::vector<double>& A,
                          const std::vector<double>& B) {
  std::vector<double> C(M * N, 0.0);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k)
        C[i * N + j] += (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
  return C;
}

TEST(Gemm, OwnKernelMatchesNaiveLoop) {
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  const int M = 7, N = 5, K = 9;
  std::vector<double> A(M * K), B(K * N);
  for (double& x : A) x = nd(rng);
  for (double& x : B) x = nd(rng);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<double> C(M * N);
      gemm_reference_cpu(ta, tb, M, N, K, A.data(), B.data(), C.data());
      const std::vector<double> ref = naive(ta, tb, M, N, K, A, B);
      for (int i = 0; i < M * N; ++i) EXPECT_NEAR(C[i], ref[i], 1e-12) << "ta " << ta << " tb " << tb;
    }
}

TEST(Gemm, BackendMatchesOwnKernelInFloat32) {
  std::mt19937 rng(4);
  std::normal_distribution<float> nd;
  const int M = 67, N = 45, K = 129;
  std::vector<float> A(M * K), B(K * N);
  for (float& x : A) x = nd(rng);
  for (float& x : B) x = nd(rng);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> C(M * N), R(M * N);
      gemm_cpu(ta, tb, M, N, K, A.data(), B.data(), C.data());
      gemm_reference_cpu(ta, tb, M, N, K, A.data(), B.data(), R.data());
      double worst = 0;
      for (int i = 0; i < M * N; ++i) worst = std::max(worst, std::abs(double(C[i]) - R[i]) / (1.0 + std::abs(R[i])));
      // K = 129 products of unit normals: float32 rounding differs with summation order.
      EXPECT_LT(worst, 1e-5) << "backend " << gemm_cpu_backend() << " ta " << ta << " tb " << tb;
    }
}

}  // namespace
}  // namespace lits::kernels
