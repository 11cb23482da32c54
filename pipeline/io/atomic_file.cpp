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
  // The first failure's errno is the one reported (a later call may overwrite it).
  int err = 0;
  const auto check = [&err](bool ok) {
    if (!ok && err == 0) err = errno != 0 ? errno : EIO;
  };
  for (const auto& [data, bytes] : parts) {
    if (err == 0 && bytes != 0) check(std::fwrite(data, 1, bytes, f) == bytes);
  }
  check(std::fflush(f) == 0);
  check(::fsync(::fileno(f)) == 0);
  check(std::fclose(f) == 0);
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    std::remove(tmp.c_str());
    LITS_THROW("cannot write '" << path << "': " << std::strerror(err));
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, {{text.data(), text.size()}});
}

}  // namespace lits
