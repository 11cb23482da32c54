// `lits segment` and `lits submit` (pipeline/infer/segment.h): a progress line per volume (updated per slice
// batch on a terminal), every failure with its file and reason, and a summary; exit status 1 when any
// volume failed.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "engine/device.h"
#include "pipeline/infer/segment.h"
#include "tools/commands.h"

namespace lits::tools {
namespace {

int run(const SegmentOptions& o, bool submit) {
  const bool tty = ::isatty(::fileno(stdout)) != 0;
  const char* what = submit ? "submit" : "segment";
  std::printf("%s: %zu model%s on %s; volumes from %s into %s%s\n", what, o.models.size(),
              o.models.size() == 1 ? "" : "s (ensemble: mean foreground probability > 0.5)",
              parse_device(o.device).label().c_str(), o.volumes.c_str(), o.out.c_str(),
              o.bn_batch_stats ? "; BatchNorm with per-batch statistics (--bn-batch-stats)" : "");
  std::fflush(stdout);
  auto on_slices = [&](int64_t done, int64_t total) {
    if (!tty) return;
    std::printf("\r  slices %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
    std::fflush(stdout);
  };
  auto on_volume = [&](const VolumeOutcome& r, int64_t done, int64_t total) {
    if (tty) std::printf("\r%60s\r", "");
    if (r.ok) {
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
