// Helpers for bad-input tests: run a callable, expect a lits::Error, look inside its message.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine/error.h"

namespace lits::testing {

// The message of the lits::Error that `f` throws, "no error" if none, or a note when another
// exception type escapes.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a lits::Error: ") + e.what();
  }
  return "no error";
}

inline void expect_contains(const std::string& message, std::initializer_list<const char*> parts) {
  for (const char* p : parts) EXPECT_NE(message.find(p), std::string::npos) << "missing '" << p << "' in: " << message;
}
// For parts built at run time (paths).
inline void expect_contains(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& p : parts)
    EXPECT_NE(message.find(p), std::string::npos) << "missing '" << p << "' in: " << message;
}

}  // namespace lits::testing
