// CPU target validation.
#include "kernels/loss_common.h"

namespace lits::kernels {

int64_t count_invalid_targets_cpu(const int64_t* target, int64_t n, int64_t classes, int64_t* first_bad) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (target[i] < 0 || target[i] >= classes) {
      if (bad == 0) *first_bad = target[i];
      ++bad;
    }
  }
  return bad;
}

}  // namespace lits::kernels
