// Error formatting: the message, then where it was raised, relative to the source tree.
#include "engine/error.h"

#include <cstring>

namespace lits::detail {

void throw_error(const std::string& message, const char* file, int line) {
  // Strip the build machine's absolute prefix: keep the path from the project's top folder on.
  const char* shown = file;
  for (const char* top : {"/engine/", "/kernels/", "/layers/", "/models/", "/pipeline/", "/tools/", "/tests/"}) {
    if (const char* p = std::strstr(file, top)) {
      shown = p + 1;
      break;
    }
  }
  std::string text = message;
  text.append(" [").append(shown).append(":").append(std::to_string(line)).append("]");
  throw Error(text);
}

}  // namespace lits::detail
