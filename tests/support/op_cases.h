// Test-side registry of gradient-check and CUDA-parity cases, filled by the macros below as the
// test binary starts. registry_test.cpp compares it with engine/op_registry.cpp: every op needs
// at least one case of each kind (gradcheck only for differentiable ops).
//
//   LITS_GRADCHECK_TEST(relu, odd_shape) { ...; EXPECT_GRADCHECK(fn, inputs); }
//   LITS_PARITY_TEST(relu, odd_shape) { ...; EXPECT_PARITY(fn, inputs, rtol, atol); }
//
// Parity tests are named <Op><Case>CudaMatchesCpu and skip, with the reason, without a GPU.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "engine/device.h"
#include "tests/support/gradcheck.h"
#include "tests/support/parity.h"

namespace lits::testing {

std::map<std::string, std::set<std::string>>& gradcheck_cases();  // op -> case names
std::map<std::string, std::set<std::string>>& parity_cases();
bool register_case(std::map<std::string, std::set<std::string>>& table, const char* op, const char* name);

}  // namespace lits::testing

#define LITS_GRADCHECK_TEST(op, name)                                                 \
  static const bool lits_gc_reg_##op##_##name =                                       \
      ::lits::testing::register_case(::lits::testing::gradcheck_cases(), #op, #name); \
  TEST(Gradcheck, op##_##name)

#define LITS_PARITY_TEST(op, name)                                                                         \
  static const bool lits_pc_reg_##op##_##name =                                                            \
      ::lits::testing::register_case(::lits::testing::parity_cases(), #op, #name);                         \
  static void lits_parity_body_##op##_##name();                                                            \
  TEST(CudaParity, op##_##name##_CudaMatchesCpu) {                                                         \
    if (!::lits::cuda_available()) GTEST_SKIP() << "no usable GPU: " << ::lits::cuda_unavailable_reason(); \
    lits_parity_body_##op##_##name();                                                                      \
  }                                                                                                        \
  static void lits_parity_body_##op##_##name()

// A gradient check that also fails when (almost) nothing could be checked.
#define EXPECT_GRADCHECK(fn, inputs, ...)                                                                  \
  do {                                                                                                     \
    const auto lits_r_ = ::lits::testing::gradcheck(fn, inputs, ##__VA_ARGS__);                            \
    EXPECT_TRUE(lits_r_.ok) << lits_r_.report;                                                             \
    EXPECT_GT(lits_r_.checked, 2 * lits_r_.skipped_kinks) << "too many kinks skipped: " << lits_r_.report; \
  } while (0)

namespace lits::testing {
// Runs cuda_parity, records a failure with its report, and prints the errors either way (the
// GPU check collects these lines).
inline void expect_parity(const TensorFn& fn, const std::vector<Tensor>& inputs, double rtol, double atol) {
  const ParityResult r = cuda_parity(fn, inputs, rtol, atol);
  EXPECT_TRUE(r.ok) << r.report;
  std::printf("[ parity   ] %s\n", r.report.c_str());
}
}  // namespace lits::testing
#define EXPECT_PARITY(...) ::lits::testing::expect_parity(__VA_ARGS__)
