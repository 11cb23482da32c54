// Axis ticks for the training plot (training_results.svg): round numbers in steps of 1, 2 or 5 times a power
// of ten for the loss and Dice axes, whole-epoch steps (1, 2, 5, 10, 20, 50, ...) for the epoch axis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

struct Ticks {
  double lo = 0.0, hi = 1.0;  // the axis range
  double step = 1.0;
  std::vector<double> values;       // ascending, within [lo, hi]
  std::vector<std::string> labels;  // one per value
};

// The smallest step of 1, 2 or 5 times a power of ten that covers [lo, hi] in at most `max_intervals`
// intervals; the range is widened outward to multiples of the step, and every multiple in it is a tick,
// labelled with the step's decimals ("0.70", "0.75", ...). A range of one value is first widened by 5% of
// it on each side (0.5 at zero); non-finite ends give [0, 1].
Ticks nice_ticks(double lo, double hi, int max_intervals = 6);

// Ticks at the multiples of the smallest step of 1, 2, 5, 10, 20, 50, ... epochs that gives at most
// `max_labels` of them in [first, last], labelled as log.csv writes the epoch. The range stays [first, last].
Ticks epoch_ticks(int64_t first, int64_t last, int max_labels = 10);

}  // namespace lits
