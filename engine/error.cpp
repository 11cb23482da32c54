// Error formatting: the message, then where it was raised, relative to the source tree.
#include "engine/error.h"

#include <cstring>

namespace lits::detail {

void throw_error(const std::string& message, const char* file, int line) {
  // Show paths relative to the source tree (LITS_SOURCE_DIR is set by engine/CMakeLists.txt).
  const char* shown = file;
  const size_t root = std::strlen(LITS_SOURCE_DIR);
  if (std::strncmp(file, LITS_SOURCE_DIR, root) == 0) shown = file + root;
  std::string text = message;
  text.append(" [").append(shown).append(":").append(std::to_string(line)).append("]");
  throw Error(text);
}

}  // namespace lits::detail
