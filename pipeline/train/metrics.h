// Overlap metrics of binary masks: the reference's Dice (docs/reference.md sections 6.4-6.5: clipped to
// [1e-4, 0.9999] with 1e-6 in the denominator, so an empty-vs-empty case scores 1e-4) and the LiTS per-case
// convention beside it (an empty-vs-empty case scores 1).
#pragma once

#include <cstdint>

namespace lits {

struct Overlap {
  int64_t both = 0;   // predicted and true
  int64_t pred = 0;   // predicted
  int64_t truth = 0;  // true
  Overlap& operator+=(const Overlap& o) {
    both += o.both, pred += o.pred, truth += o.truth;
    return *this;
  }
};

// nu.Dice: clip(2 |P n T| / (|T| + |P| + 1e-6), 1e-4, 0.9999).
double reference_dice(const Overlap& o);
// 2 |P n T| / (|T| + |P|), and 1 when both are empty.
double case_dice(const Overlap& o);

}  // namespace lits
