// Axis ticks (see ticks.h).
#include "pipeline/train/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/error.h"

namespace lits {

Ticks nice_ticks(double lo, double hi, int max_intervals) {
  LITS_CHECK(max_intervals >= 1, "nice_ticks: " << max_intervals << " intervals; expected at least 1");
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0.0, hi = 1.0;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(std::fabs(lo), std::fabs(hi))) {
    const double pad = lo != 0.0 ? 0.05 * std::fabs(lo) : 0.5;
    lo -= pad;
    hi += pad;
  }
  // Quotients within 1e-6 of a whole number count as whole: 0.7 / 0.05 is 13.999999999999998.
  const double tol = 1e-6;
  const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / max_intervals)));
  Ticks t;
  for (const double m : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0}) {
    t.step = m * base;
    const double k_lo = std::floor(lo / t.step + tol), k_hi = std::ceil(hi / t.step - tol);
    if (k_hi - k_lo > max_intervals) continue;
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(t.step) + tol)));
    for (double k = k_lo; k <= k_hi; k += 1.0) {
      const double v = k == 0.0 ? 0.0 : k * t.step;  // never -0
      char text[64];
      std::snprintf(text, sizeof text, "%.*f", decimals, v);
      t.values.push_back(v);
      t.labels.emplace_back(text);
    }
    t.lo = t.values.front();
    t.hi = t.values.back();
    return t;
  }
  LITS_THROW("nice_ticks: no step for [" << lo << ", " << hi << "]");  // 50 * base always fits
}

Ticks epoch_ticks(int64_t first, int64_t last, int max_labels) {
  LITS_CHECK(max_labels >= 1, "epoch_ticks: " << max_labels << " labels; expected at least 1");
  if (first > last) std::swap(first, last);
  Ticks t;
  t.lo = static_cast<double>(first);
  t.hi = static_cast<double>(last);
  // The multiples of `step` in [first, last] (floor division: epochs are never negative, but stay exact).
  auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
  for (int64_t step = 1;; step *= 10) {
    for (const int64_t m : {1, 2, 5}) {
      const int64_t s = step * m;
      const int64_t k_lo = -floor_div(-first, s), k_hi = floor_div(last, s);
      if (k_hi - k_lo + 1 > max_labels) continue;
      t.step = static_cast<double>(s);
      for (int64_t k = k_lo; k <= k_hi; ++k) {
        t.values.push_back(static_cast<double>(k * s));
        t.labels.push_back(std::to_string(k * s));
      }
      return t;
    }
  }
}

}  // namespace lits
