// Learning-rate schedules (see schedule.h).
#include "pipeline/schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/error.h"

namespace lits {

double LrSchedule::lr_at(int64_t epoch) const {
  LITS_CHECK(epoch >= 0, "learning-rate schedule: epoch " << epoch);
  int64_t decays = 0;
  if (step_size > 0) {
    decays = epoch / step_size;
  } else {
    decays = std::upper_bound(milestones.begin(), milestones.end(), epoch) - milestones.begin();
  }
  return base_lr * std::pow(gamma, static_cast<double>(decays));
}

std::string LrSchedule::str() const {
  std::ostringstream s;
  if (step_size > 0) {
    s << "StepLR(step_size " << step_size;
  } else {
    s << "MultiStepLR(milestones [";
    for (size_t i = 0; i < milestones.size(); ++i) s << (i ? ", " : "") << milestones[i];
    s << "]";
  }
  s << ", gamma " << gamma << ") from lr " << base_lr;
  return s.str();
}

LrSchedule lr_schedule_from(const Setup& setup) {
  LrSchedule s;
  s.base_lr = setup.at("lr").as_double("lr");
  s.gamma = setup.at("gamma").as_double("gamma");
  LITS_CHECK(s.base_lr >= 0 && std::isfinite(s.base_lr), "lr " << s.base_lr << " (expected a number >= 0)");
  LITS_CHECK(s.gamma > 0 && std::isfinite(s.gamma), "gamma " << s.gamma << " (expected a positive number)");
  const Value& step = setup.at("step_size");
  if (step.is_list()) {
    s.milestones = step.as_int_list("step_size");
    for (size_t i = 0; i < s.milestones.size(); ++i)
      LITS_CHECK(s.milestones[i] >= 0 && (i == 0 || s.milestones[i] > s.milestones[i - 1]),
                 "step_size " << step.str() << " (expected ascending epochs >= 0 for MultiStepLR)");
  } else {
    s.step_size = step.as_int("step_size");
    LITS_CHECK(s.step_size >= 1, "step_size " << s.step_size << " (expected 1 or more for StepLR, or a list)");
  }
  return s;
}

}  // namespace lits
