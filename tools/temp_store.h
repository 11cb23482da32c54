// A phantom slice store in a temporary folder for the benchmarks that need data and were given none;
// removed when the TempStore goes out of scope.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace lits::tools {

struct TempStore {
  std::filesystem::path path;
  ~TempStore();
};

// Synthesizes `volumes` training volumes of size x size x slices and converts them; prints what it does
// prefixed with `who`. Returns the store folder.
std::string make_temp_phantom_store(TempStore& tmp, const char* who, int volumes, int64_t size, int64_t slices);

}  // namespace lits::tools
