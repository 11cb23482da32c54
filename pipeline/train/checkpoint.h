// Training checkpoints (docs/architecture.md section 9): NAME.safetensors holds the network's parameters and buffers
// ("model.<name>") and the Adam moments ("adam.m.<name>", "adam.v.<name>"), with the training state as JSON
// in its metadata ("lits_state"), so the one file is self-consistent; NAME.json repeats that JSON for
// people. Both are written atomically, the .safetensors first: a crash leaves the previous checkpoint or
// the new one, never a mix that loads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layers/module.h"
#include "pipeline/io/safetensors.h"
#include "pipeline/train/metrics.h"
#include "pipeline/train/optimizer.h"

namespace lits {

// One row of log.csv.
struct EpochRow {
  int64_t epoch = 0;
  double seconds = 0.0;  // training + validation + checkpoints of this epoch
  double train_loss = 0.0, train_dice = 0.0;
  double val_dice = 0.0;       // the reference's per-volume mean (empty-vs-empty volumes score 1e-4)
  double val_case_dice = 0.0;  // the LiTS per-case convention (empty-vs-empty volumes score 1)
  double lr = 0.0;
  double samples_per_s = 0.0;  // training samples per second of training time
};

struct TrainState {
  int64_t epoch = 0;                      // the epoch in progress, or the next one when epoch_step is 0
  int64_t epoch_step = 0;                 // steps of `epoch` already trained ("batch" in the file)
  int64_t step = 0;                       // optimizer steps so far
  uint64_t rng_seed = 0, rng_offset = 0;  // the network's generator (dropout draws)
  double best_val_dice = -1.0;
  int64_t best_epoch = -1;
  double train_seconds = 0.0;  // wall time of all epochs so far
  // The epoch in progress: running training metrics and time, so an interrupted epoch resumes exactly.
  double loss_sum = 0.0;
  int64_t loss_count = 0;
  Overlap chunk;  // pooled over the current chunk of verbose_idx steps
  int64_t chunk_steps = 0;
  std::vector<double> chunk_dices;
  double epoch_seconds = 0.0;
  int64_t epoch_samples = 0;
  double epoch_train_seconds = 0.0;
  std::vector<EpochRow> rows;  // finished epochs
  std::string schedule;        // for people: the schedule in words

  std::string to_json() const;
  static TrainState from_json(const std::string& text, const std::string& where);
};

// NAME = the path without extension, e.g. RUN/checkpoint_latest.
void save_checkpoint(const std::string& name, const Module& net, const AdamOptimizer& optimizer,
                     const TrainState& state);

struct LoadedCheckpoint {
  NamedTensors model;      // without the "model." prefix
  NamedTensors optimizer;  // "m.<name>", "v.<name>"
  TrainState state;
};
LoadedCheckpoint load_checkpoint(const std::string& name);

// Copies every parameter and buffer of `net` from `model` (any device); a missing, extra or misshapen
// entry is an error naming it and `source`.
void load_module_state(Module& net, const NamedTensors& model, const std::string& source);

}  // namespace lits
