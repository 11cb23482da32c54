// Faults the `lits` command must survive, each run as a child process (issue 19):
// - the disk fills while a checkpoint or the store is written: the error names the file and says what is
//   kept, and the previous checkpoint or store volume is unchanged and loads (a file-size limit, which
//   makes writes fail with EFBIG, stands in for a full disk's ENOSPC: the same failed write);
// - a corrupted or truncated checkpoint on --resume: a clear error, nothing in the run folder written;
// - a NaN loss after a checkpoint: the epoch and step named, the checkpoint kept;
// - `convert` and `segment` killed with SIGKILL mid-volume: nothing incomplete under a final name, and the
//   next run removes the leftovers and finishes.
// (One MPI rank killed mid-epoch is in distributed_test.cpp.)
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"
#include "pipeline/io/nifti.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/subprocess.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void put_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Every regular file under `dir` (relative name -> content).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) files[fs::relative(f.path(), dir).string()] = bytes_of(f.path());
  return files;
}

// Names in `dir` that start with a dot or hold ".tmp": what an interrupted writer leaves.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (name[0] == '.' || name.find(".tmp") != std::string::npos) found.push_back(name);
  }
  return found;
}

class Faults : public PhantomStore {
 protected:
  void SetUp() override { make_store(2, 64, 16); }
  // A tiny liver run trained for `epochs` epochs in this process; its folder.
  std::string trained(const std::string& save, int epochs = 1) const {
    return train_run(tiny_setup(), tiny_options(store_dir(), dir_ / save, epochs)).run_dir;
  }
  // `lits ARGS`, under a file-size limit of `fsize` bytes when it is not 0.
  Finished lits(
      const std::vector<std::string>& args, const std::string& log, int64_t fsize = 0,
      const std::function<void(pid_t)>& on_start = [](pid_t) {}) const {
    std::vector<std::string> all;
    if (fsize > 0) all = {"/usr/bin/prlimit", "--fsize=" + std::to_string(fsize), "--"};
    all.push_back(LITS_TOOL);
    all.insert(all.end(), args.begin(), args.end());
    return run_process(all, dir_ / (log + ".log"), 300, on_start);
  }
  std::vector<std::string> resume(const std::string& run) const {
    return {"train", "--resume", run, "--epochs", "2", "--device", "cpu", "--workers", "1"};
  }
};

TEST_F(Faults, DiskFullWhileWritingACheckpointKeepsThePreviousOne) {
  const std::string run = trained("full");
  const fs::path latest = fs::path(run) / "checkpoint_latest.safetensors";
  const std::string before = bytes_of(latest);
  ASSERT_GT(before.size(), 1000u);
  // Room for every other file of the run folder, not for the checkpoint.
  const Finished f = lits(resume(run), "full", static_cast<int64_t>(before.size() / 2));
  EXPECT_EQ(f.signal, 0) << f.output;
  EXPECT_EQ(f.exit_status, 1) << f.output;
  expect_contains(f.output,
                  std::vector<std::string>{"cannot write '" + latest.string() + "'", "File too large",
                                           "writing checkpoint_latest at the end of epoch 1", "the previous checkpoint",
                                           "is kept unchanged", "--resume " + run});
  EXPECT_EQ(bytes_of(latest), before) << "checkpoint_latest changed";
  EXPECT_EQ(load_checkpoint((fs::path(run) / "checkpoint_latest").string()).state.epoch, 1);
  EXPECT_EQ(leftovers(run), std::vector<std::string>{});
  std::printf("[ faults ] checkpoint write under a %zu-byte file limit: exit status %d: %s\n", before.size() / 2,
              f.exit_status, f.output.substr(f.output.rfind("lits: error")).c_str());
}

TEST_F(Faults, DiskFullWhileWritingTheStoreKeepsTheEarlierVolumes) {
  const fs::path store = store_dir();
  const auto before = snapshot(store);
  const int64_t image = static_cast<int64_t>(fs::file_size(store / "volume-0" / "image.npy"));
  const Finished f = lits({"convert", "--in", (dir_ / "lits" / "Training_Data").string(), "--out", store.string(),
                           "--weightmaps", "2d", "--workers", "1"},
                          "store", image / 2);
  EXPECT_EQ(f.signal, 0) << f.output;
  EXPECT_EQ(f.exit_status, 1) << f.output;
  expect_contains(f.output, {"volume-0", "volume-1", "File too large"});
  for (const auto& [name, bytes] : before)
    if (name != "index.json") {
      EXPECT_EQ(bytes_of(store / name), bytes) << name << " changed";
    }
  EXPECT_EQ(read_stored_volume(store.string(), "volume-0").image.size(), 16u * 64 * 64);
  EXPECT_EQ(leftovers(store), std::vector<std::string>{});
  std::printf("[ faults ] convert under a %lld-byte file limit: exit status %d, earlier volumes unchanged\n",
              static_cast<long long>(image / 2), f.exit_status);
}

TEST_F(Faults, ACorruptOrTruncatedCheckpointIsRefusedOnResumeAndNothingIsWritten) {
  const std::string run = trained("corrupt");
  const fs::path latest = fs::path(run) / "checkpoint_latest.safetensors";
  const std::string good = bytes_of(latest);
  struct Case {
    const char* what;
    std::string bytes;
    const char* says;
  };
  std::string header = good, weight = good;
  header[8] = 'X';                                       // the JSON header's opening brace
  weight.back() = static_cast<char>(weight.back() ^ 1);  // one bit of the last tensor's data
  const std::vector<Case> cases = {{"truncated to half", good.substr(0, good.size() / 2), "truncated"},
                                   {"truncated to 5 bytes", good.substr(0, 5), "not a safetensors file"},
                                   {"empty", "", "not a safetensors file"},
                                   {"header damaged", header, "JSON"},
                                   {"one bit of the weights flipped", weight, "is corrupted"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    put_bytes(latest, c.bytes);
    const auto before = snapshot(run);
    const Finished f = lits(resume(run), "corrupt");
    EXPECT_EQ(f.signal, 0) << f.output;
    EXPECT_EQ(f.exit_status, 1) << f.output;
    expect_contains(f.output, std::vector<std::string>{latest.string(), c.says});
    EXPECT_EQ(snapshot(run), before) << "the run folder changed";
    std::printf("[ faults ] resume from a checkpoint %s: exit status %d: %s\n", c.what, f.exit_status,
                f.output.substr(f.output.rfind("lits: error")).c_str());
  }
}

TEST_F(Faults, ANonFiniteLossAfterACheckpointKeepsIt) {
  const std::string run = trained("nan");
  const fs::path latest = fs::path(run) / "checkpoint_latest.safetensors";
  const std::string before = bytes_of(latest);
  lits::Setup s = read_run_setup(run);
  s.set("Training", "lr", Value::floating(1e30));  // the first update blows the weights up
  TrainOptions o;
  o.resume = run;
  o.device = "cpu";
  o.threads = 1;
  o.epochs = 2;
  const std::string message = error_of([&] { train_run(s, o); });
  expect_contains(message, std::vector<std::string>{"training loss became", "at epoch 1", "(step ",
                                                    "the previous checkpoint '" + latest.string() + "' is kept"});
  EXPECT_EQ(bytes_of(latest), before);
  EXPECT_EQ(load_checkpoint((fs::path(run) / "checkpoint_latest").string()).state.epoch, 1);
  std::printf("[ faults ] NaN loss after a checkpoint: %s\n", message.c_str());
}

// Polls `dir` until an entry whose name holds `part` appears (or `pid` ends); then kills `pid` with SIGKILL.
// Returns whether it was caught in the act.
bool kill_when_present(pid_t pid, const fs::path& dir, const std::string& part) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir, ec)) {
      if (f.path().filename().string().find(part) != std::string::npos) {
        ::kill(pid, SIGKILL);
        return true;
      }
    }
    if (::kill(pid, 0) != 0) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return false;
}

TEST_F(Faults, ConvertAndSegmentKilledMidVolumeLeaveNothingIncomplete) {
  // A volume big enough that its conversion (3D weightmaps) and its mask's writing take a while.
  SynthOptions so;
  so.out = (dir_ / "big").string();
  so.train = 1;
  so.test = 0;
  so.phantom.size = 256;
  so.phantom.slices = 96;
  write_synth_dataset(so);
  const fs::path in = dir_ / "big" / "Training_Data", store = dir_ / "big_store";
  fs::create_directories(store);
  bool caught = false;
  const std::vector<std::string> convert = {"convert", "--in", in.string(), "--out", store.string(), "--workers", "1"};
  Finished f = lits(convert, "convert_killed", 0, [&](pid_t pid) { caught = kill_when_present(pid, store, ".tmp-"); });
  EXPECT_TRUE(caught) << "convert ended before its temporary folder was seen";
  EXPECT_EQ(f.signal, SIGKILL);
  EXPECT_FALSE(fs::exists(store / "volume-0")) << "a volume folder under its final name after the kill";
  EXPECT_NE(leftovers(store), std::vector<std::string>{}) << "the kill left no temporary folder to clean up";
  f = lits(convert, "convert_again");
  EXPECT_EQ(f.exit_status, 0) << f.output;
  EXPECT_EQ(leftovers(store), std::vector<std::string>{});
  EXPECT_EQ(read_stored_volume(store.string(), "volume-0").image.size(), 96u * 256 * 256);
  std::printf(
      "[ faults ] convert killed mid-volume: nothing under the final name; the rerun cleaned up and "
      "converted\n");

  const std::string run = trained("seg");
  const fs::path out = dir_ / "masks";
  fs::create_directories(out);
  const std::vector<std::string> segment = {"segment", "--volumes",  in.string(), "--model", run,
                                            "--out",   out.string(), "--device",  "cpu"};
  caught = false;
  f = lits(segment, "segment_killed", 0, [&](pid_t pid) { caught = kill_when_present(pid, out, ".tmp"); });
  EXPECT_TRUE(caught) << "segment ended before its temporary file was seen";
  EXPECT_EQ(f.signal, SIGKILL);
  for (const auto& m : fs::directory_iterator(out)) {
    const std::string name = m.path().filename().string();
    if (name.find(".tmp") == std::string::npos) ADD_FAILURE() << "a mask under its final name after the kill: " << name;
  }
  f = lits(segment, "segment_again");
  EXPECT_EQ(f.exit_status, 0) << f.output;
  EXPECT_EQ(leftovers(out), std::vector<std::string>{});
  int masks = 0;
  for (const auto& m : fs::directory_iterator(out)) {
    EXPECT_EQ(read_nifti_labels(m.path().string()).size(), 96u * 256 * 256);
    ++masks;
  }
  EXPECT_EQ(masks, 1);
  std::printf(
      "[ faults ] segment killed while writing its mask: nothing under the final name; the rerun removed "
      "the temporary file and wrote the mask\n");
}

}  // namespace
}  // namespace lits::testing
