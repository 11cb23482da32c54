// `lits convert`: LiTS NIfTI volumes into the slice store (pipeline/data/convert.h). A progress line that updates
// in place on a terminal, one line per volume when piped, then every failure with its file and reason and
// a summary; the exit status is 0 only when every volume converted.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "engine/error.h"
#include "pipeline/data/convert.h"
#include "tools/commands.h"
#include "tools/progress.h"

namespace lits::tools {

int run_convert(const ConvertOptions& options) {
  // Checked here, naming the flags, before anything touches the disk.
  if (options.in.empty()) LITS_THROW("convert: --in is required (the folder of volume-N / segmentation-N files)");
  if (options.out.empty()) LITS_THROW("convert: --out is required (the slice store folder)");
  if (options.threads < 0)
    LITS_THROW("convert: --workers " << options.threads << " is invalid; expected 0 (one per core) or more");

  // One line per volume when not on a terminal (every = 0).
  Progress progress(::isatty(::fileno(stdout)) != 0, 0.0);
  const char* what = options.test                               ? "test volumes (image only)"
                     : options.weightmaps == WeightmapMode::k2d ? "training volumes (2d weightmaps)"
                                                                : "training volumes (3d weightmaps)";
  std::printf("convert: %s from %s into %s\n", what, options.in.c_str(), options.out.c_str());
  std::fflush(stdout);
  progress.restart();
  const ConvertReport report = convert_dataset(options, [&](const ConvertProgress& p) {
    char line[512];
    if (p.ok) {
      const StoreEntry& e = *p.entry;
      std::snprintf(line, sizeof line, "%-16s %5lld slices  %5lld liver  %5lld lesion  %6.1f s", p.name.c_str(),
                    static_cast<long long>(e.shape[0]), static_cast<long long>(e.liver_slices),
                    static_cast<long long>(e.lesion_slices), p.seconds);
    } else {
      std::snprintf(line, sizeof line, "%-16s FAILED (listed at the end)", p.name.c_str());
    }
    const double f = static_cast<double>(p.done) / static_cast<double>(p.total);
    char text[640];
    std::snprintf(text, sizeof text, "[%lld/%lld] %s  %s", static_cast<long long>(p.done),
                  static_cast<long long>(p.total), progress.status(f).c_str(), line);
    progress.show(f, text);
  });
  if (progress.tty()) std::printf("\n");

  if (!report.ignored.empty()) {
    std::printf("convert: ignored %zu NIfTI file%s not named volume-N / segmentation-N%s:", report.ignored.size(),
                report.ignored.size() == 1 ? "" : "s", options.test ? " (test: test-volume-N)" : "");
    for (size_t i = 0; i < report.ignored.size() && i < 5; ++i) std::printf(" %s", report.ignored[i].c_str());
    std::printf("%s\n", report.ignored.size() > 5 ? " ..." : "");
  }
  for (const ConvertFailure& f : report.failures)
    std::printf("convert: FAILED %s: %s\n", f.file.c_str(), f.reason.c_str());
  const int64_t per_slice = store_bytes_per_slice(!options.test);
  std::printf(
      "convert: %zu of %zu volumes converted with %d thread%s in %.1f s, %.1f MB written; the store holds %lld "
      "volumes\n",
      report.converted.size(), report.converted.size() + report.failures.size(), report.threads,
      report.threads == 1 ? "" : "s", report.seconds, report.bytes_written / 1e6,
      static_cast<long long>(report.store_volumes));
  std::printf("convert: store bytes per 512 x 512 slice: %lld (%.2f MiB: %s)\n", static_cast<long long>(per_slice),
              per_slice / 1048576.0,
              options.test ? "int16 image" : "int16 image + uint8 labels + two float16 weightmaps");
  if (!report.failures.empty()) {
    std::printf("convert: %zu volume%s failed; the store holds only complete volumes\n", report.failures.size(),
                report.failures.size() == 1 ? "" : "s");
    return 1;
  }
  return 0;
}

}  // namespace lits::tools
