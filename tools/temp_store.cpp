// Temporary phantom stores for benchmarks (see temp_store.h).
#include "tools/temp_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"

namespace fs = std::filesystem;

namespace lits::tools {

TempStore::~TempStore() {
  std::error_code ec;
  if (!path.empty()) fs::remove_all(path, ec);
}

std::string make_temp_phantom_store(TempStore& tmp, const char* who, int volumes, int64_t size, int64_t slices) {
  std::string tag = who;
  std::replace(tag.begin(), tag.end(), ' ', '-');
  tmp.path = fs::temp_directory_path() / ("lits-" + tag + "-" + std::to_string(::getpid()));
  SynthOptions s;
  s.out = (tmp.path / "lits").string();
  s.train = volumes;
  s.test = 0;
  s.phantom.size = size;
  s.phantom.slices = slices;
  std::printf("%s: no --data; making a phantom store (%d volumes of %lld x %lld x %lld) in %s\n", who, volumes,
              static_cast<long long>(size), static_cast<long long>(size), static_cast<long long>(slices),
              tmp.path.c_str());
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  write_synth_dataset(s);
  ConvertOptions c;
  c.in = (tmp.path / "lits" / "Training_Data").string();
  c.out = (tmp.path / "store").string();
  const ConvertReport r = convert_dataset(c);
  LITS_CHECK(r.failures.empty(), who << ": converting the phantom store failed: " << r.failures[0].reason);
  std::printf("%s: phantom store ready in %.1f s\n", who,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return c.out;
}

}  // namespace lits::tools
