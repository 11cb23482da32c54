// The fuzz targets' input files (see fuzz_file.h).
#include "tests/fuzz/fuzz_file.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace lits::fuzz {

namespace fs = std::filesystem;

namespace {

// The folder, removed when the process ends normally (libFuzzer's -max_total_time and -runs end so).
struct Folder {
  fs::path path;
  Folder() {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    path = base / ("lits_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

std::string input_folder() {
  static const Folder folder;
  return folder.path.string();
}

std::string input_file(const uint8_t* data, size_t size, const std::string& name, bool compress) {
  const std::string path = (fs::path(input_folder()) / name).string();
  if (compress) {
    gzFile f = gzopen(path.c_str(), "wb1");
    if (f == nullptr) std::abort();
    if (size > 0 && gzwrite(f, data, static_cast<unsigned>(size)) != static_cast<int>(size)) std::abort();
    gzclose(f);
  } else {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();
  }
  return path;
}

}  // namespace lits::fuzz
