// The one place where a setup's values become the typed plan of a training run: the learning-rate
// schedule, the loss, the network, the data and the loop's sizes, each key read once and checked with an
// error naming it (docs/reference.md section 1.4 lists the keys). The trainer and `lits bench train`
// read only the plan, never the setup's keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "layers/loss.h"
#include "models/setup.h"
#include "models/unet_config.h"
#include "pipeline/data/dataset.h"

namespace lits {

// Learning-rate schedules of the reference (docs/reference.md sections 6.2-6.3): StepLR for an integer
// step_size, MultiStepLR for a list, with PyTorch 0.4.1's epoch semantics (scheduler.step() before each
// epoch), so epoch e trains at lr * gamma^(milestones <= e) or lr * gamma^floor(e / step_size).
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

// Everything a run needs from its setup, resolved and checked once.
struct TrainPlan {
  DataTask task = DataTask::kLiver;  // also data.task
  LossType loss = LossType::kMulticlassPwce;
  LossOptions loss_options;
  UNetConfig net;
  DatasetOptions data;  // training crop, augmentation, sampling, weightmaps, seed
  LrSchedule schedule;
  double weight_decay = 0.0;  // l2_reg: Adam's L2 term (the learning rate comes from the schedule)
  int64_t batch_size = 4, epochs = 1, verbose_idx = 200, workers = 8;
  double perc_data = 1.0, train_val_split = 0.9;
  uint64_t seed = 1;
  Precision precision = Precision::kFp32;  // precision: fp32 (default), tf32 or bf16 (engine/ops.h)
  // Paths: empty when the setup leaves them unset or as the presets' placeholders.
  std::string training_path, save_path, initialization;
};
// Limits of the training keys (the network's are UNetLimits, models/unet_config.h).
constexpr int64_t kMaxBatch = 4096;     // batch_size, per rank
constexpr int64_t kMaxCrop = 8192;      // each side of crop_size
constexpr int64_t kMaxEpochs = 100000;  // n_epochs
constexpr int64_t kMaxWorkers = 256;    // num_workers

// Throws lits::Error naming the key of a bad value and the limit. `epochs` >= 0 overrides n_epochs.
TrainPlan make_train_plan(const Setup& setup, int64_t epochs = -1);
// Puts `net` (another run's network: initialization) into the plan, with the checks that depend on it
// (the crop divisible by the UNet's downsampling, the input channels).
void set_plan_network(TrainPlan& plan, const UNetConfig& net);

}  // namespace lits
