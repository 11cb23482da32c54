// lits::Error and the checking macros. Library code throws; tools catch at the top and print.
// Every message says what was wrong, with the values involved, and where it was detected.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace lits {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Whether messages end with the failed check and its source line, " (check `cond`) [file:line]": on by
// default (tests and developers see where), off in the `lits` command unless --debug, so that users read
// what was wrong and not the C++ that found it.
void set_error_locations(bool on);
bool error_locations();

namespace detail {
// `check` is the failed condition's text, or nullptr for LITS_THROW.
[[noreturn]] void throw_error(const std::string& message, const char* check, const char* file, int line);
}  // namespace detail

}  // namespace lits

// LITS_CHECK(cond, message << parts): throws lits::Error "message (check `cond`) [file:line]" (see
// set_error_locations).
#define LITS_CHECK(cond, msg)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::ostringstream lits_msg_;                                            \
      lits_msg_ << msg;                                                        \
      ::lits::detail::throw_error(lits_msg_.str(), #cond, __FILE__, __LINE__); \
    }                                                                          \
  } while (0)

// LITS_THROW(message << parts): unconditional.
#define LITS_THROW(msg)                                                        \
  do {                                                                         \
    std::ostringstream lits_msg_;                                              \
    lits_msg_ << msg;                                                          \
    ::lits::detail::throw_error(lits_msg_.str(), nullptr, __FILE__, __LINE__); \
  } while (0)
