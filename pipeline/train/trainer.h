// Training one run of a setup (docs/reference.md section 6): the seeded split of the slice store's
// volumes, the UNet of the setup (or of the initialization run), Adam with the reference's schedule, one
// validation per epoch with the per-volume Dice, checkpoint_latest after every epoch and checkpoint_best on
// a strictly better validation Dice, log.csv and the plot. Deterministic on the CPU for a given seed and
// thread count; --resume continues bit for bit, also from inside an epoch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/comm.h"
#include "models/setup.h"
#include "pipeline/train/plan.h"

namespace lits {

struct TrainOptions {
  std::string data;  // the slice store (default: the setup's Training_Path unless a placeholder)
  std::string save;  // parent of the run folder (default: the setup's Save_Path, else
                     // SAVEDATA/Standard_{Liver,Lesion}_Networks)
  std::string device = "auto";
  int64_t epochs = -1;  // overrides n_epochs when >= 0
  bool no_date = false;
  std::string resume;      // a run folder to continue
  std::string init;        // a trained run folder to start from (overrides `initialization`)
  int threads = -1;        // loader workers; -1: min(num_workers, cores)
  int64_t max_steps = -1;  // stop (as on SIGINT) after this many steps of this call; for tests
  // Data-parallel training (pipeline/dist/distributed.h): every rank calls train_run with the same setup and
  // options; `batch_size` is per rank, so a step trains on batch_size * ranks samples. Null: one process
  // (`lits train` passes one only for jobs of 2 or more ranks).
  Communicator* comm = nullptr;
  bool sync_bn = false;    // BatchNorm statistics over all ranks' samples (default: each rank's own)
  int64_t bucket_mb = 25;  // gradient all-reduce bucket size, MiB
  // The training step as one CUDA graph (pipeline/train/graph_step.h) where it can run so (CUDA, one
  // process, no dropout); otherwise a message says why and steps run as usual.
  bool cuda_graphs = false;
};

// What the trainer reports while it runs (rendered by `lits train`).
struct TrainEvent {
  enum class Kind { kStart, kStep, kEpochEnd, kCheckpoint, kMessage } kind = Kind::kMessage;
  std::string text;  // kStart: a description; kMessage: a line; kCheckpoint: the file
  int64_t epoch = 0, epochs = 0;
  int64_t step = 0, steps = 0;    // kStep: steps of the epoch done, and in all
  double loss = 0.0, dice = 0.0;  // kStep: running epoch means; kEpochEnd: the row's
  double val_dice = 0.0, val_case_dice = 0.0;
  double samples_per_s = 0.0, eta_seconds = 0.0, lr = 0.0, seconds = 0.0;
  bool best = false;
};

struct TrainReport {
  std::string run_dir;
  int64_t epochs_done = 0;
  int64_t steps = 0;
  double best_val_dice = -1.0;
  int64_t best_epoch = -1;
  double last_val_dice = 0.0, last_val_case_dice = 0.0;
  bool stopped = false;  // by `stop` or max_steps, after writing checkpoint_latest
  double seconds = 0.0;
};

// Trains `setup` (one run of a setup file), section by section (a Trainer in trainer.cpp: folders,
// initialization, data, network, run folder or resume, data-parallel join, then epochs of training steps
// (step.h), validation and the epoch's end). With a communicator of N ranks: the ranks start from rank 0's
// weights, take disjoint shares of each global batch of the epoch's one sample order, average gradients
// (bucketed all-reduce, overlapped with backward), validate on disjoint shares of the slices, and only rank
// 0 writes the run folder and reports events. Checkpoints do not depend on N: resume with any N. `stop` (optional) is
// polled after every step: when set, the step in progress finishes, checkpoint_latest is written and the report says
// stopped. A non-finite loss is a lits::Error naming the epoch and step; the last checkpoint written stays as it was.
TrainReport train_run(const Setup& setup, const TrainOptions& options,
                      const std::function<void(const TrainEvent&)>& on_event = nullptr,
                      const std::atomic<bool>* stop = nullptr);

}  // namespace lits
