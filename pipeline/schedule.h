// Learning-rate schedules of the reference (reference-pipeline.md 6.2-6.3): StepLR for an integer
// step_size, MultiStepLR for a list, with PyTorch 0.4.1's epoch semantics (scheduler.step() before each
// epoch), so epoch e trains at lr * gamma^(milestones <= e) or lr * gamma^floor(e / step_size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/setup.h"

namespace lits {

struct LrSchedule {
  double base_lr = 1e-5;
  double gamma = 0.1;
  int64_t step_size = 0;            // > 0: StepLR
  std::vector<int64_t> milestones;  // MultiStepLR when step_size is 0 (ascending)

  // The learning rate of 0-based epoch `epoch`.
  double lr_at(int64_t epoch) const;
  std::string str() const;  // "MultiStepLR(milestones [25, 42], gamma 0.1) from 3e-05"
};

// From the setup's lr, gamma and step_size (int or list); throws naming the key on bad values.
LrSchedule lr_schedule_from(const Setup& setup);

}  // namespace lits
