// `lits train`: every run of a setup file in turn (pipeline/train/trainer.h), with a progress line that updates in
// place on a terminal (plain lines when piped), one summary line per epoch, and SIGINT / SIGTERM handled:
// the step in progress finishes, checkpoint_latest is written, and `--resume RUN_DIR` continues from it.
// Under an MPI launcher each process is one rank of a data-parallel job (pipeline/dist/distributed.h): rank 0
// prints, and a rank that fails ends the whole job with its error instead of leaving the others waiting.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>

#include "engine/error.h"
#include "engine/ops.h"
#include "models/setup_files.h"
#include "pipeline/dist/distributed.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/trainer.h"
#include "tools/commands.h"
#include "tools/progress.h"

namespace lits::tools {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig);
  g_stop.store(true);
  ::signal(sig, SIG_DFL);  // a second signal ends the process at once
}

}  // namespace

static int train_runs(const TrainCommandOptions& options, bool quiet);

int run_train(const TrainCommandOptions& options_in) {
  TrainCommandOptions options = options_in;
  DistributedJob job = start_distributed(options.train.device);
  if (job.comm == nullptr) return train_runs(options, false);
  options.train.device = job.device.str();
  options.train.comm = job.comm.get();
  try {
    return train_runs(options, job.comm->rank() != 0);
  } catch (const std::exception& e) {
    job.comm->abort(std::string("error: ") + e.what());
  }
  return 1;  // not reached: abort ends the job
}

static int train_runs(const TrainCommandOptions& options, bool quiet) {
  std::vector<Setup> runs;
  if (!options.train.resume.empty()) {
    runs.push_back(read_run_setup(options.train.resume));
  } else {
    LITS_CHECK(!options.setup.empty(), "train: --setup FILE is required (or --resume RUN_DIR)");
    runs = load_runs(options.setup, options.base);
  }
  if (!options.precision.empty())
    for (Setup& run : runs) run.set("Training", "precision", Value::string(options.precision), "--precision");
  if (options.deterministic) set_deterministic_algorithms(true);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const bool tty = ::isatty(::fileno(stdout)) != 0;
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs.size() > 1 && !quiet) std::printf("=== run %zu of %zu ===\n", r + 1, runs.size());
    // The step line in place on a terminal; in a log, a line per quarter of each epoch.
    Progress progress(tty, 0.25);
    int64_t last_step = 0;
    auto on_event = [&](const TrainEvent& e) {
      if (quiet) return;
      switch (e.kind) {
        case TrainEvent::Kind::kStart: std::printf("train: %s\n", e.text.c_str()); break;
        case TrainEvent::Kind::kMessage:
          progress.finish();
          std::printf("train: %s\n", e.text.c_str());
          break;
        case TrainEvent::Kind::kStep: {
          if (e.step <= last_step) progress.restart();  // a new epoch
          last_step = e.step;
          const double f = static_cast<double>(e.step) / static_cast<double>(e.steps);
          char line[256];
          std::snprintf(
              line, sizeof line,
              "epoch %lld (%lld of %lld)  step %lld/%lld (%.0f%%)  loss %.4f  Dice %.3f  %.1f samples/s  ETA %s",
              static_cast<long long>(e.epoch), static_cast<long long>(e.epoch + 1), static_cast<long long>(e.epochs),
              static_cast<long long>(e.step), static_cast<long long>(e.steps), 100.0 * f, e.loss, e.dice,
              e.samples_per_s, duration_text(e.eta_seconds).c_str());
          progress.show(f, line);
          break;
        }
        case TrainEvent::Kind::kEpochEnd:
          progress.finish();
          last_step = 0;
          std::printf(
              "epoch %lld (%lld of %lld): training loss %.4f, Dice %.4f | validation Dice %.4f (LiTS per case %.4f) | "
              "lr %.3g | "
              "%.1f samples/s | %s%s\n",
              static_cast<long long>(e.epoch), static_cast<long long>(e.epoch + 1), static_cast<long long>(e.epochs),
              e.loss, e.dice, e.val_dice, e.val_case_dice, e.lr, e.samples_per_s, duration_text(e.seconds).c_str(),
              e.best ? " | best so far" : "");
          break;
        case TrainEvent::Kind::kCheckpoint: break;
      }
      std::fflush(stdout);
    };
    const TrainReport rep = train_run(runs[r], options.train, on_event, &g_stop);
    progress.finish();
    if (quiet) {
      if (rep.stopped) return g_signal.load() ? 128 + g_signal.load() : 0;
      continue;
    }
    if (rep.stopped) {
      std::printf(
          "train: stopped%s after step %lld; checkpoint_latest is written. Continue with:\n  %slits train "
          "--resume %s\n",
          g_signal.load() == SIGTERM ? " by SIGTERM" : (g_signal.load() == SIGINT ? " by SIGINT" : ""),
          static_cast<long long>(rep.steps), options.train.comm != nullptr ? "mpirun -np N " : "", rep.run_dir.c_str());
      return g_signal.load() ? 128 + g_signal.load() : 0;
    }
    std::printf("train: %lld epochs in %s; best validation Dice %.4f (epoch %lld); run folder %s\n",
                static_cast<long long>(rep.epochs_done), duration_text(rep.seconds).c_str(), rep.best_val_dice,
                static_cast<long long>(rep.best_epoch), rep.run_dir.c_str());
  }
  return 0;
}

}  // namespace lits::tools
