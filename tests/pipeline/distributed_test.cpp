// Data-parallel training under mpirun (issue 10's acceptance), on the CPU with the MPI communicator:
// - two ranks of batch B end with the weights of one rank of batch 2B on the same samples (GroupNorm, and
//   BatchNorm with --sync-bn, whose running statistics must match too), within float32 tolerance;
// - a checkpoint written by one rank resumes under two ranks exactly as a one-rank resume with the
//   doubled batch continues;
// - a rank that fails, or was started with another job, ends the whole job with its error (no hang);
// - a rank killed with SIGKILL in mid-epoch ends the job within 60 seconds, the checkpoint still loadable.
// Skipped when the build has no MPI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pipeline/train/checkpoint.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/subprocess.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

struct Command {
  int status = -1;
  std::string output;
};

Command run_command(const std::string& command, const fs::path& log) {
  // OpenMPI refuses root without both variables; --oversubscribe lets 2 ranks share fewer cores.
  const std::string line =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
      "timeout 300 " +
      command + " > '" + log.string() + "' 2>&1";
  const int raw = std::system(line.c_str());
  Command c;
  c.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(log);
  c.output.assign(std::istreambuf_iterator<char>(in), {});
  return c;
}

class Distributed : public PhantomStore {
 public:
  void SetUp() override {
    if (!LITS_HAVE_MPI) GTEST_SKIP() << "this build has no MPI";
    make_store(volumes(), 64, 16);
  }
  virtual int volumes() const { return 4; }

  // A tiny liver setup without dropout (its masks are per rank by design) and with a strong L2 term (see
  // expect_same_training); `norm` "group" or "batch". The
  // loss is the liver presets' multiclass_pwce, a plain mean over the batch's pixels: the mean of the ranks'
  // means. (multiclass_combined, a ratio of batch means, is per rank under data parallelism, as in PyTorch.)
  fs::path write_setup(const std::string& name, int batch, const std::string& norm) {
    const fs::path file = dir_ / (name + ".txt");
    std::ofstream f(file);
    f << "=== one run on top of the baseline\n#Network\nstructure: [[1, 1, 1]]\nfilter_start: [4]\nchannels: [1]\n"
         "dropout: [0]\nuse_batchnorm: ["
      << (norm == "batch" ? "True" : "False") << "]\n#Training\ndata: ['liver']\ncrop_size: [[32, 32]]\nbatch_size: ["
      << batch << "]\nn_epochs: [1]\nsavename: ['" << name
      << "']\nloss_func: ['multiclass_pwce']\nlr: [0.0003]\nl2_reg: [0.01]\nverbose_idx: [2]\n";
    return file;
  }

  std::string train_args(const fs::path& setup, const std::string& extra) const {
    return std::string(LITS_TOOL) + " train --setup '" + setup.string() + "' --data '" + store_dir() + "' --save '" +
           (dir_ / "runs").string() + "' --device cpu --no-date --workers 1 " + extra;
  }
  std::string mpirun(int ranks, const std::string& args) const {
    return std::string(LITS_MPIEXEC) + " -n " + std::to_string(ranks) + " " + args;
  }
  fs::path run(const std::string& name) const { return dir_ / "runs" / ("vUnet2D_" + name); }
  Command run_command_of(const std::string& command, const std::string& log) const {
    return run_command(command, dir_ / (log + ".log"));
  }
};

// How two checkpoints' models (parameters and buffers) differ: the largest |a - b| and where, the largest
// |a| for scale, and how many values differ by more than `tol` of them all.
struct Difference {
  double largest = 0.0, scale = 0.0;
  std::string where;
  int64_t over = 0, values = 0;
};
Difference difference(const fs::path& a, const fs::path& b, double tol) {
  const LoadedCheckpoint ca = load_checkpoint((a / "checkpoint_latest").string());
  const LoadedCheckpoint cb = load_checkpoint((b / "checkpoint_latest").string());
  EXPECT_EQ(ca.model.size(), cb.model.size());
  Difference d;
  for (size_t i = 0; i < ca.model.size() && i < cb.model.size(); ++i) {
    EXPECT_EQ(ca.model[i].first, cb.model[i].first);
    const std::vector<double> va = ca.model[i].second.to_vector(), vb = cb.model[i].second.to_vector();
    EXPECT_EQ(va.size(), vb.size()) << ca.model[i].first;
    for (size_t k = 0; k < va.size() && k < vb.size(); ++k) {
      const double e = std::abs(va[k] - vb[k]);
      if (e > d.largest) d.where = ca.model[i].first + "[" + std::to_string(k) + "]";
      d.largest = std::max(d.largest, e);
      d.scale = std::max(d.scale, std::abs(va[k]));
      d.over += e > tol;
      ++d.values;
    }
  }
  return d;
}

// Weights moved by the steps, so that agreement is not agreement of untouched initial weights.
double moved(const fs::path& run_dir, const fs::path& other) {
  const LoadedCheckpoint a = load_checkpoint((run_dir / "checkpoint_latest").string());
  const LoadedCheckpoint b = load_checkpoint((other / "checkpoint_latest").string());
  double m = 0.0;
  for (size_t i = 0; i < a.model.size(); ++i) {
    const std::vector<double> va = a.model[i].second.to_vector(), vb = b.model[i].second.to_vector();
    for (size_t k = 0; k < va.size(); ++k) m = std::max(m, std::abs(va[k] - vb[k]));
  }
  return m;
}

void expect_same_training(const fs::path& two, const fs::path& one, int64_t steps) {
  const LoadedCheckpoint c2 = load_checkpoint((two / "checkpoint_latest").string());
  const LoadedCheckpoint c1 = load_checkpoint((one / "checkpoint_latest").string());
  EXPECT_EQ(c2.state.step, steps);
  EXPECT_EQ(c1.state.step, steps);
  EXPECT_EQ(c2.state.epoch_samples, c1.state.epoch_samples);
  EXPECT_NEAR(c2.state.loss_sum, c1.state.loss_sum, 1e-5 * std::abs(c1.state.loss_sum));
  EXPECT_EQ(c2.state.chunk_dices.size(), c1.state.chunk_dices.size());
  // Float32 sums in another order differ by ~1e-7 relative. Adam divides by sqrt(v), so a weight whose true
  // gradient is nearly zero (a bias ahead of a norm) can amplify that to a good part of lr per step: a few
  // such outliers are allowed (0.1%), each within 2 lr per step; everything else must agree to 2e-5. Adam
  // is blind to a common scale of the gradients; the setups' L2 term (added to the gradient) is not, so a
  // wrong averaging shows.
  const double lr = 3e-4;
  const Difference d = difference(two, one, 2e-5);
  EXPECT_LE(d.over, d.values / 1000) << d.over << " of " << d.values << " values differ by more than 2e-5";
  EXPECT_LT(d.largest, 2.0 * lr * static_cast<double>(steps))
      << "largest difference " << d.largest << " at " << d.where;
  std::printf(
      "[ parallel ] %lld steps: %lld of %lld values differ by more than 2e-5; the largest difference is %.3g "
      "at %s (largest value %.3g)\n",
      static_cast<long long>(steps), static_cast<long long>(d.over), static_cast<long long>(d.values), d.largest,
      d.where.c_str(), d.scale);
}

// Trains "two" (2 ranks of batch 2, plus `extra`) and "one" (1 rank of batch 4) for `steps` steps with
// `norm`; returns the 2-rank job's output.
std::string train_two_and_one(Distributed& t, const std::string& norm, const std::string& extra, int steps) {
  const std::string max = "--max-steps " + std::to_string(steps);
  const Command a =
      t.run_command_of(t.mpirun(2, t.train_args(t.write_setup("two", 2, norm), max + " " + extra)), "two");
  EXPECT_EQ(a.status, 0) << a.output;
  const Command b = t.run_command_of(t.train_args(t.write_setup("one", 4, norm), max), "one");
  EXPECT_EQ(b.status, 0) << b.output;
  if (a.status == 0 && b.status == 0) expect_same_training(t.run("two"), t.run("one"), steps);
  return a.output;
}

TEST_F(Distributed, TwoRanksOfBatchBEqualOneRankOfBatch2B) {
  const std::string out = train_two_and_one(*this, "group", "", 5);
  EXPECT_NE(out.find("data parallel: 2 ranks (mpi), global batch 4"), std::string::npos) << out;
  // And the steps did train: a run stopped after 1 step is far from both.
  const Command c = run_command(train_args(write_setup("short", 4, "group"), "--max-steps 1"), dir_ / "short.log");
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_GT(moved(run("short"), run("one")), 1e-4);
}

TEST_F(Distributed, SyncBatchNormMatchesOneRankIncludingRunningStatistics) {
  const std::string out = train_two_and_one(*this, "batch", "--sync-bn --bucket-mb 1", 4);
  EXPECT_NE(out.find("synchronized BatchNorm"), std::string::npos) << out;
}

// One rank trains 3 steps of batch 2 and stops; the checkpoint then resumes under 2 ranks (batch 2 each)
// for 2 steps, and in this process with one rank of batch 4: the same samples, the same weights.
TEST_F(Distributed, ACheckpointResumesWithAnotherNumberOfRanks) {
  const fs::path setup = write_setup("resume", 2, "group");
  const Command a = run_command(train_args(setup, "--max-steps 3"), dir_ / "first.log");
  ASSERT_EQ(a.status, 0) << a.output;
  const fs::path copy1 = dir_ / "copy1", copy2 = dir_ / "copy2";
  fs::copy(run("resume"), copy1, fs::copy_options::recursive);
  fs::copy(run("resume"), copy2, fs::copy_options::recursive);
  const Command b = run_command(mpirun(2, std::string(LITS_TOOL) + " train --resume '" + copy1.string() +
                                              "' --device cpu --workers 1 --max-steps 2"),
                                dir_ / "resume2.log");
  ASSERT_EQ(b.status, 0) << b.output;
  lits::Setup s = read_run_setup(copy2.string());
  s.set("Training", "batch_size", Value::integer(4));
  TrainOptions o;
  o.resume = copy2.string();
  o.device = "cpu";
  o.threads = 1;
  o.max_steps = 2;
  const TrainReport r = train_run(s, o);
  EXPECT_TRUE(r.stopped);
  expect_same_training(copy1, copy2, 5);
  EXPECT_EQ(load_checkpoint((copy1 / "checkpoint_latest").string()).state.epoch_samples, 3 * 2 + 2 * 4);
}

// A whole epoch, validation included, with 3 ranks of batch 7 against one of batch 21. With 5 volumes the
// epoch has 64 samples: 3 full steps, then one of a single sample, which two ranks sit out (their
// gradients count as zero, the parameters still get the third rank's). The validation slices are shared
// out and pooled per volume: the validation Dice must match one rank's.
class DistributedEpoch : public Distributed {
 protected:
  int volumes() const override { return 5; }
};

TEST_F(DistributedEpoch, AWholeEpochWithAnEmptyShardAndShardedValidationMatchesOneRank) {
  const fs::path three = write_setup("three", 7, "group"), one = write_setup("one", 21, "group");
  const Command a = run_command(mpirun(3, train_args(three, "--bucket-mb 1")), dir_ / "three.log");
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_NE(a.output.find("(64 samples per epoch"), std::string::npos) << a.output;
  const Command b = run_command(train_args(one, ""), dir_ / "one.log");
  ASSERT_EQ(b.status, 0) << b.output;
  const LoadedCheckpoint c3 = load_checkpoint((run("three") / "checkpoint_latest").string());
  ASSERT_EQ(c3.state.rows.size(), 1u);
  EXPECT_EQ(c3.state.step, 4) << "64 samples in global batches of 21";
  expect_same_training(run("three"), run("one"), 4);
  const LoadedCheckpoint c1 = load_checkpoint((run("one") / "checkpoint_latest").string());
  ASSERT_EQ(c1.state.rows.size(), 1u);
  EXPECT_NEAR(c3.state.rows[0].val_dice, c1.state.rows[0].val_dice, 1e-4);
  EXPECT_NEAR(c3.state.rows[0].val_case_dice, c1.state.rows[0].val_case_dice, 1e-4);
  EXPECT_NEAR(c3.state.rows[0].train_loss, c1.state.rows[0].train_loss, 1e-5);
  EXPECT_GT(c1.state.rows[0].val_dice, 0.0);
  for (const char* f : {"log.csv", "samples_latest.png", "checkpoint_best.safetensors", "training_results.svg"})
    EXPECT_TRUE(fs::exists(run("three") / f)) << f;
}

TEST_F(Distributed, AFailingRankStopsTheJobWithItsError) {
  const fs::path setup = write_setup("fail", 2, "group");
  // MPMD: rank 1 is given a store that does not exist; rank 0 would wait for it forever.
  const std::string good = train_args(setup, "");
  std::string bad = good;
  bad.replace(bad.find(store_dir()), store_dir().size(), (dir_ / "missing_store").string());
  const Command a = run_command(std::string(LITS_MPIEXEC) + " -n 1 " + good + " : -n 1 " + bad, dir_ / "fail.log");
  EXPECT_NE(a.status, 0) << a.output;
  EXPECT_NE(a.status, 124) << "the job hung: " << a.output;
  expect_contains(a.output, {"rank 1 of 2", "missing_store", "stopping every rank"});
  // A rank started with other options is refused by name.
  const Command b =
      run_command(std::string(LITS_MPIEXEC) + " -n 1 " + good + " --epochs 1 : -n 1 " + good + " --epochs 2",
                  dir_ / "mismatch.log");
  EXPECT_NE(b.status, 0) << b.output;
  EXPECT_NE(b.status, 124) << "the job hung: " << b.output;
  expect_contains(b.output, {"rank 1 was started with another job than rank 0", "epochs=2"});
}

// Rank 1 is killed with SIGKILL in the middle of the second epoch, while rank 0 waits for it in an
// all-reduce: mpirun must end the job (exit status not 0) within 60 seconds, saying which rank died.
TEST_F(Distributed, ARankKilledInMidEpochEndsTheJobWithin60Seconds) {
  const fs::path setup = write_setup("killed", 2, "group");
  {
    std::ifstream in(setup);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("n_epochs: [1]"), 13, "n_epochs: [1000]");
    std::ofstream(setup) << text;
  }
  // Rank 1 goes through a shell that writes its process id, then becomes `lits train` (same pid).
  const fs::path pid_file = dir_ / "rank1.pid", wrapper = dir_ / "rank1.sh";
  std::ofstream(wrapper) << "echo $$ > '" << pid_file.string() << "'\nexec \"$@\"\n";
  const std::string good = train_args(setup, "");
  const std::string line =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 " +
      std::string(LITS_MPIEXEC) + " -n 1 " + good + " : -n 1 /bin/sh '" + wrapper.string() + "' " + good;
  std::chrono::steady_clock::time_point killed;
  bool sent = false;
  const Finished f = run_process({"/bin/sh", "-c", line}, dir_ / "killed.log", 300, [&](pid_t) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(200);
    while (!fs::exists(run("killed") / "checkpoint_latest.json") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // into the next epoch
    std::ifstream in(pid_file);
    pid_t pid = 0;
    in >> pid;
    killed = std::chrono::steady_clock::now();
    sent = pid > 0 && ::kill(pid, SIGKILL) == 0;
  });
  const double after = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  ASSERT_TRUE(sent) << "rank 1 was not found to kill: " << f.output;
  EXPECT_FALSE(f.timed_out) << f.output;
  EXPECT_NE(f.exit_status, 0) << f.output;
  EXPECT_LT(after, 60.0) << f.output;
  expect_contains(f.output, {"rank 1", "signal 9"});
  EXPECT_GE(load_checkpoint((run("killed") / "checkpoint_latest").string()).state.epoch, 1);
  std::printf("[ faults ] rank 1 of 2 killed with SIGKILL in mid-epoch: the job ended %.1f s later, exit status %d\n",
              after, f.exit_status);
}

}  // namespace
}  // namespace lits::testing
