// The training plan (see plan.h): the setup's keys read once, typed and checked.
#include "pipeline/train/plan.h"

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
  s.base_lr = setup.get<double>("lr");
  s.gamma = setup.get<double>("gamma");
  LITS_CHECK(s.base_lr >= 0 && std::isfinite(s.base_lr), "lr " << s.base_lr << " (expected a number >= 0)");
  LITS_CHECK(s.gamma > 0 && std::isfinite(s.gamma), "gamma " << s.gamma << " (expected a positive number)");
  const Value& step = setup.at("step_size");
  if (step.is_list()) {
    s.milestones = setup.get<std::vector<int64_t>>("step_size");
    for (size_t i = 0; i < s.milestones.size(); ++i)
      LITS_CHECK(s.milestones[i] >= 0 && (i == 0 || s.milestones[i] > s.milestones[i - 1]),
                 "step_size " << step.str() << " (expected ascending epochs >= 0 for MultiStepLR)");
  } else {
    s.step_size = setup.get<int64_t>("step_size");
    LITS_CHECK(s.step_size >= 1, "step_size " << s.step_size << " (expected 1 or more for StepLR, or a list)");
  }
  return s;
}

namespace {

// A path key, empty when unset or one of the presets' placeholders.
std::string path_of(const Setup& s, const char* key) {
  const std::string path = s.get_or<std::string>(key, "");
  return path.find("placeholder") != std::string::npos ? "" : path;
}

}  // namespace

TrainPlan make_train_plan(const Setup& s, int64_t epochs) {
  TrainPlan p;
  p.task = parse_data_task(s.get<std::string>("data"));
  p.loss = parse_loss_type(s.get<std::string>("loss_func"));
  p.loss_options.wmap_weight = s.get<double>("wmap_weight");
  p.loss_options.epsilon = s.get<double>("epsilon");
  p.loss_options.focal_gamma = s.get<double>("focal_gamma");
  p.loss_options.class_weights = s.get_or<std::vector<double>>("class_weights", {});
  p.loss_options.weight_score = s.get_or<std::vector<double>>("weight_score", {});
  p.schedule = lr_schedule_from(s);
  p.weight_decay = s.get<double>("l2_reg");
  p.batch_size = s.get<int64_t>("batch_size");
  p.epochs = epochs >= 0 ? epochs : s.get<int64_t>("n_epochs");
  p.verbose_idx = s.get<int64_t>("verbose_idx");
  p.workers = s.get<int64_t>("num_workers");
  p.perc_data = s.get<double>("perc_data");
  p.train_val_split = s.get<double>("train_val_split");
  const int64_t seed = s.get<int64_t>("seed");
  LITS_CHECK(seed >= 0 && seed <= UINT32_MAX, "seed " << seed << " (expected 0 .. 2^32-1, as NumPy's)");
  p.seed = static_cast<uint64_t>(seed);
  p.precision = parse_precision(s.get_or<std::string>("precision", "fp32"), "precision");
  LITS_CHECK(p.batch_size >= 1 && p.batch_size <= kMaxBatch,
             "batch_size " << p.batch_size << " (expected 1 to " << kMaxBatch << ")");
  LITS_CHECK(p.epochs >= 0 && p.epochs <= kMaxEpochs,
             "n_epochs " << p.epochs << " (expected 0 to " << kMaxEpochs << ")");
  LITS_CHECK(p.verbose_idx >= 1, "verbose_idx " << p.verbose_idx << " (expected 1 or more)");
  LITS_CHECK(p.workers >= 0 && p.workers <= kMaxWorkers,
             "num_workers " << p.workers << " (expected 0 to " << kMaxWorkers << ")");
  p.training_path = path_of(s, "Training_Path");
  p.save_path = path_of(s, "Save_Path");
  // A placeholder initialization is kept: the trainer resolves it to the liver run of the save folder.
  p.initialization = s.get_or<std::string>("initialization", "");

  DatasetOptions& d = p.data;
  d.task = p.task;
  const std::vector<int64_t> crop = s.get<std::vector<int64_t>>("crop_size");
  LITS_CHECK(crop.empty() || crop.size() == 2, "crop_size " << s.at("crop_size").str() << " (expected [] or [h, w])");
  for (const int64_t c : crop)
    LITS_CHECK(c >= 1 && c <= kMaxCrop,
               "crop_size " << s.at("crop_size").str() << " (each side expected 1 to " << kMaxCrop << ")");
  if (crop.size() == 2) {
    d.crop_height = crop[0];
    d.crop_width = crop[1];
  }
  d.augment = parse_augment_modes(s.get<std::vector<std::string>>("augment"));
  d.pos_sample_chance = s.get<int64_t>("pos_sample_chance");
  d.roi_vicinity = s.get<int64_t>("Training_ROI_Vicinity");
  d.standardize = !s.get<bool>("no_standardize");
  d.weightmaps = loss_uses_weightmap(p.loss) && p.loss_options.wmap_weight != 0.0;
  d.seed = p.seed;
  set_plan_network(p, unet_config_from(s));
  return p;
}

void set_plan_network(TrainPlan& p, const UNetConfig& net) {
  p.net = net;
  p.data.channels = static_cast<int>(net.channels);
  const int64_t f = int64_t{1} << (net.levels() - 1);
  LITS_CHECK(p.data.crop_height % f == 0 && p.data.crop_width % f == 0,
             "crop_size [" << p.data.crop_height << ", " << p.data.crop_width
                           << "] must be divisible by 2^(levels-1) = " << f << " for a UNet of " << net.levels()
                           << " levels");
}

}  // namespace lits
