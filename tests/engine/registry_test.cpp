// Every op in engine/op_registry.cpp has a float64 gradient check (when differentiable) and a
// CUDA parity case; and every case names a registered op.
#include <gtest/gtest.h>

#include "engine/op_registry.h"
#include "tests/support/op_cases.h"

namespace lits::testing {
namespace {

TEST(OpRegistry, EveryOpHasGradcheckAndParityCases) {
  for (const OpInfo& op : op_registry()) {
    if (op.differentiable) {
      EXPECT_TRUE(gradcheck_cases().count(op.name)) << "op '" << op.name << "' has no LITS_GRADCHECK_TEST case";
    } else {
      EXPECT_FALSE(gradcheck_cases().count(op.name)) << "op '" << op.name << "' is registered as not differentiable";
    }
    EXPECT_TRUE(parity_cases().count(op.name)) << "op '" << op.name << "' has no LITS_PARITY_TEST case";
  }
}

TEST(OpRegistry, EveryCaseNamesARegisteredOp) {
  for (const auto& [name, cases] : gradcheck_cases())
    EXPECT_TRUE(is_registered_op(name)) << "gradcheck case for unknown op '" << name << "'";
  for (const auto& [name, cases] : parity_cases())
    EXPECT_TRUE(is_registered_op(name)) << "parity case for unknown op '" << name << "'";
  EXPECT_GE(gradcheck_cases().size(), 20u);
}

}  // namespace
}  // namespace lits::testing
