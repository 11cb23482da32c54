// Atomic whole-file writes (see atomic_file.h).
#include "pipeline/io/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/error.h"

namespace lits {

void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& parts) {
  std::string tmp = path;
  tmp.append(".tmp").append(std::to_string(::getpid()));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  LITS_CHECK(f != nullptr, "cannot create '" << tmp << "': " << std::strerror(errno));
  bool ok = true;
  for (const auto& [data, bytes] : parts) ok = ok && (bytes == 0 || std::fwrite(data, 1, bytes, f) == bytes);
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LITS_THROW("cannot write '" << path << "': " << std::strerror(err));
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, {{text.data(), text.size()}});
}

}  // namespace lits
