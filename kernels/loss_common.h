// Shared by the loss kernels: target validation (class indices must lie in [0, K)) and the
// pixel weight (1 + w)^alpha of the reference's weightmaps.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

// (1 + w)^alpha; 1 when there is no weightmap (w == nullptr) or alpha == 0.
template <typename T>
LITS_HD double pixel_weight(const T* w, int64_t i, double alpha) {
  if (w == nullptr || alpha == 0.0) return 1.0;
  const double base = 1.0 + static_cast<double>(w[i]);
  // The reference's alpha is 3 (or 1 in some setups): multiplications instead of pow.
  if (alpha == 1.0) return base;
  if (alpha == 2.0) return base * base;
  if (alpha == 3.0) return base * base * base;
  return ::pow(base, alpha);
}

// Number of entries of target [n] outside [0, classes), and the first such value (CPU).
int64_t count_invalid_targets_cpu(const int64_t* target, int64_t n, int64_t classes, int64_t* first_bad);
// CUDA: writes the count to *count_host after synchronising the stream.
Status count_invalid_targets_cuda(const int64_t* target, int64_t n, int64_t classes, int64_t* count_host,
                                  int64_t* first_bad_host, Stream s);

}  // namespace lits::kernels
