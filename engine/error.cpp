// Error formatting: the message, then where it was raised, relative to the source tree.
#include "engine/error.h"

#include <atomic>
#include <cstring>

namespace lits {

namespace {
std::atomic<bool> g_locations{true};
}  // namespace

void set_error_locations(bool on) { g_locations = on; }
bool error_locations() { return g_locations; }

}  // namespace lits

namespace lits::detail {

void throw_error(const std::string& message, const char* check, const char* file, int line) {
  if (!g_locations) throw Error(message);
  // Show paths relative to the source tree (LITS_SOURCE_DIR is set by engine/CMakeLists.txt).
  const char* shown = file;
  const size_t root = std::strlen(LITS_SOURCE_DIR);
  if (std::strncmp(file, LITS_SOURCE_DIR, root) == 0) shown = file + root;
  std::string text = message;
  if (check != nullptr) text.append(" (check `").append(check).append("`)");
  text.append(" [").append(shown).append(":").append(std::to_string(line)).append("]");
  throw Error(text);
}

}  // namespace lits::detail
