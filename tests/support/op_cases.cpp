// Storage for the test-side case registries.
#include "tests/support/op_cases.h"

namespace lits::testing {

std::map<std::string, std::set<std::string>>& gradcheck_cases() {
  static std::map<std::string, std::set<std::string>> table;
  return table;
}

std::map<std::string, std::set<std::string>>& parity_cases() {
  static std::map<std::string, std::set<std::string>> table;
  return table;
}

bool register_case(std::map<std::string, std::set<std::string>>& table, const char* op, const char* name) {
  table[op].insert(name);
  return true;
}

}  // namespace lits::testing
