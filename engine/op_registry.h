// The list of every op that records a backward (differentiable) or creates values on a device.
// record_op refuses names not listed here, and the test suite demands, for every entry, a float64
// gradient check (when differentiable) and a CUDA parity case: a new op cannot slip in untested.
#pragma once

#include <string>
#include <vector>

namespace lits {

struct OpInfo {
  std::string name;
  bool differentiable;
};

const std::vector<OpInfo>& op_registry();
bool is_registered_op(const std::string& name);

}  // namespace lits
