// `lits synth`: writes a phantom CT dataset in the LiTS layout (pipeline/data/phantom.h), one line per volume
// and a summary, after checking every option against the limits the rest of the pipeline assumes.
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "pipeline/data/phantom.h"
#include "tools/commands.h"

namespace lits::tools {

int run_synth(const SynthOptions& options) {
  // Checked here, naming the flags, before anything touches the disk.
  if (options.out.empty()) LITS_THROW("synth: --out is required (the dataset folder)");
  if (options.train < 1) LITS_THROW("synth: --train " << options.train << " is invalid; expected at least 1");
  if (options.test < 0) LITS_THROW("synth: --test " << options.test << " is invalid; expected 0 or more");
  const int64_t size = options.phantom.size, slices = options.phantom.slices;
  // A multiple of 16 survives the four 2x poolings of the reference UNet without padding.
  if (size < 32 || size > 1024 || size % 16 != 0)
    LITS_THROW("synth: --size " << size << " is invalid; expected a multiple of 16 between 32 and 1024");
  if (slices < 8 || slices > 2048) LITS_THROW("synth: --slices " << slices << " is invalid; expected 8 to 2048");

  std::printf("synth: %d training and %d test volumes of %lld x %lld x %lld voxels (seed %llu) into %s\n",
              options.train, options.test, static_cast<long long>(size), static_cast<long long>(size),
              static_cast<long long>(slices), static_cast<unsigned long long>(options.phantom.seed),
              options.out.c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  int64_t files = 0, bytes = 0;
  write_synth_dataset(options, [&](const SynthVolumeInfo& v) {
    files += 2;
    bytes += v.bytes;
    std::printf("  %-40s %4lld slices  spacing %.3f x %.3f x %.2f mm  %s  %d lesion%s\n", v.image.c_str(),
                static_cast<long long>(v.dims[2]), v.spacing[0], v.spacing[1], v.spacing[2], v.orientation.c_str(),
                v.lesions, v.lesions == 1 ? "" : "s");
    std::fflush(stdout);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("synth: wrote %lld files, %.1f MB, in %.1f s\n", static_cast<long long>(files), bytes / 1e6, seconds);
  return 0;
}

}  // namespace lits::tools
