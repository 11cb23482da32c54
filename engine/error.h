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

namespace detail {
[[noreturn]] void throw_error(const std::string& message, const char* file, int line);
}  // namespace detail

}  // namespace lits

// LITS_CHECK(cond, message << parts): throws lits::Error "message (check `cond` at file:line)".
#define LITS_CHECK(cond, msg)                                           \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::ostringstream lits_msg_;                                     \
      lits_msg_ << msg << " (check `" #cond "`)";                       \
      ::lits::detail::throw_error(lits_msg_.str(), __FILE__, __LINE__); \
    }                                                                   \
  } while (0)

// LITS_THROW(message << parts): unconditional.
#define LITS_THROW(msg)                                               \
  do {                                                                \
    std::ostringstream lits_msg_;                                     \
    lits_msg_ << msg;                                                 \
    ::lits::detail::throw_error(lits_msg_.str(), __FILE__, __LINE__); \
  } while (0)
