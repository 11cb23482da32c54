// Overlap metrics (see metrics.h).
#include "pipeline/train/metrics.h"

#include <algorithm>

namespace lits {

double reference_dice(const Overlap& o) {
  const double d = 2.0 * static_cast<double>(o.both) / (static_cast<double>(o.truth + o.pred) + 1e-6);
  return std::clamp(d, 1e-4, 0.9999);
}

double case_dice(const Overlap& o) {
  if (o.truth + o.pred == 0) return 1.0;
  return 2.0 * static_cast<double>(o.both) / static_cast<double>(o.truth + o.pred);
}

}  // namespace lits
