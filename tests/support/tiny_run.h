// A tiny liver setup for tests that train: the Baseline with a 3-level, 4-filter UNet on one slice, 32 x 32
// crops, batch 2, 2 epochs; on the PhantomStore (4 volumes of 64 x 64 x 16) an epoch is 24 steps.
#pragma once

#include <filesystem>
#include <string>

#include "models/setup.h"
#include "pipeline/train/trainer.h"

namespace lits::testing {

inline lits::Setup tiny_setup() {
  const std::filesystem::path presets =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "models" / "presets";
  lits::Setup s = parse_setup_file((presets / "Baseline_Parameters.txt").string());
  s.set("Network", "structure", parse_value("[1, 1, 1]", "test"));
  s.set("Network", "filter_start", Value::integer(4));
  s.set("Network", "channels", Value::integer(1));
  s.set("Network", "dropout", Value::floating(0.1));  // exercises the generator state
  s.set("Training", "data", Value::string("liver"));
  s.set("Training", "loss_func", Value::string("multiclass_pwce"));
  s.set("Training", "crop_size", parse_value("[32, 32]", "test"));
  s.set("Training", "batch_size", Value::integer(2));
  s.set("Training", "n_epochs", Value::integer(2));
  s.set("Training", "lr", Value::floating(3e-3));
  s.set("Training", "step_size", parse_value("[1]", "test"));
  s.set("Training", "verbose_idx", Value::integer(5));
  s.set("Training", "wmap_weight", Value::floating(3));
  s.set("Training", "savename", Value::string("tiny"));
  return s;
}

// A run on the CPU with one loader thread from `store` into SAVE/vUnet2D_<savename> (no date);
// `epochs` -1: the setup's n_epochs.
inline TrainOptions tiny_options(const std::string& store, const std::filesystem::path& save, int64_t epochs = -1) {
  TrainOptions o;
  o.data = store;
  o.save = save.string();
  o.device = "cpu";
  o.no_date = true;
  o.threads = 1;
  o.epochs = epochs;
  return o;
}

}  // namespace lits::testing
