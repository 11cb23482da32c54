// `lits segment` and `lits submit` (pipeline/infer/segment.h): a line per volume, and inside a volume the
// slices done with the percentage and ETA (rewritten per slice batch on a terminal, a line per tenth of the
// volume in a log), every failure with its file and reason, and a summary; exit status 1 when any volume
// failed.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "engine/device.h"
#include "pipeline/infer/segment.h"
#include "tools/commands.h"
#include "tools/progress.h"

namespace lits::tools {
namespace {

int run(const SegmentOptions& o, bool submit) {
  Progress progress(::isatty(::fileno(stdout)) != 0);
  const char* what = submit ? "submit" : "segment";
  std::string inputs;
  for (const std::string& i : o.inputs) inputs += (inputs.empty() ? "" : ", ") + i;
  std::printf("%s: %zu model%s on %s; volumes from %s into %s%s\n", what, o.models.size(),
              o.models.size() == 1 ? "" : "s (ensemble: mean foreground probability > 0.5)",
              parse_device(o.device).label().c_str(), inputs.c_str(), o.out.c_str(),
              o.bn_batch_stats ? "; BatchNorm with per-batch statistics (--bn-batch-stats)" : "");
  if (o.tta || o.fast || !o.postprocess)
    std::printf("%s:%s%s%s\n", what, o.tta ? " test-time mirroring (4 passes per slice);" : "",
                o.fast ? " half resolution (--fast);" : "", o.postprocess ? "" : " no post-processing;");
  std::fflush(stdout);
  int64_t volume = 1, volumes = 0;  // the volume in progress, of how many (known after the first)
  auto on_slices = [&](int64_t done, int64_t total) {
    const double f = static_cast<double>(done) / static_cast<double>(total);
    char of[32] = "";
    if (volumes > 0) std::snprintf(of, sizeof of, "/%lld", static_cast<long long>(volumes));
    char line[160];
    std::snprintf(line, sizeof line, "[%lld%s] slices %lld/%lld %s", static_cast<long long>(volume), of,
                  static_cast<long long>(done), static_cast<long long>(total), progress.status(f).c_str());
    progress.show(f, line);
  };
  auto on_volume = [&](const VolumeOutcome& r, int64_t done, int64_t total) {
    progress.finish();
    progress.restart();
    volume = done + 1;
    volumes = total;
    if (r.ok) {
      if (r.reordered)
        std::printf(
            "  %s: a %s stack, its slice axis not superior-inferior: segmented as axial slices, the output "
            "in the file's own geometry\n",
            r.input.c_str(), r.orientation.c_str());
      for (const std::string& w : r.warnings) std::printf("  WARNING %s: %s\n", r.input.c_str(), w.c_str());
      for (const std::string& f : r.probability_files) std::printf("  probabilities: %s\n", f.c_str());
      std::printf("[%lld/%lld] %s -> %s: %lld slices, liver %lld voxels (slices %lld-%lld)%s, %.1f s\n",
                  static_cast<long long>(done), static_cast<long long>(total), r.input.c_str(), r.output.c_str(),
                  static_cast<long long>(r.slices), static_cast<long long>(r.liver_voxels),
                  static_cast<long long>(r.z0), static_cast<long long>(r.z1),
                  submit ? (", lesion " + std::to_string(r.lesion_voxels) + " voxels").c_str() : "", r.seconds);
    } else {
      std::printf("[%lld/%lld] FAILED %s\n", static_cast<long long>(done), static_cast<long long>(total),
                  r.error.c_str());
    }
    std::fflush(stdout);
  };
  const SegmentReport rep = submit ? submit_lesions(o, on_volume, on_slices) : segment_liver(o, on_volume, on_slices);
  for (const VolumeOutcome& r : rep.volumes)
    if (!r.ok) std::printf("%s: FAILED %s\n", what, r.error.c_str());
  std::printf("%s: %lld of %zu volumes in %.1f s (%.2f slices/s through the networks)\n", what,
              static_cast<long long>(rep.volumes.size() - rep.failures), rep.volumes.size(), rep.seconds,
              rep.slices_per_s);
  return rep.failures ? 1 : 0;
}

}  // namespace

int run_segment(const SegmentOptions& options) { return run(options, false); }
int run_submit(const SegmentOptions& options) { return run(options, true); }

}  // namespace lits::tools
