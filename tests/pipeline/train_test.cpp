// Training: the reference's schedule table, safetensors files NumPy-compatible in layout, the Dice
// conventions, and whole runs of a tiny UNet on a phantom store: two runs with one seed give bit-identical
// weights, 2 epochs straight equal 1 epoch + resume + 1 epoch (also when stopped inside an epoch), the run
// folder holds its files, a non-finite loss stops with the epoch and step named, and a process killed with
// SIGKILL in mid-epoch leaves a checkpoint that loads.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <zlib.h>

#include "models/setup.h"
#include "models/unet.h"
#include "pipeline/io/png.h"
#include "pipeline/io/safetensors.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/metrics.h"
#include "pipeline/train/plan.h"
#include "pipeline/train/run_folder.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/subprocess.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

TEST(Schedule, ReproducesTheReferencesTable) {
  LrSchedule liver{3e-5, 0.1, 0, {25, 42}};  // the liver presets
  EXPECT_DOUBLE_EQ(liver.lr_at(0), 3e-5);
  EXPECT_DOUBLE_EQ(liver.lr_at(24), 3e-5);
  EXPECT_NEAR(liver.lr_at(25), 3e-6, 1e-18);
  EXPECT_NEAR(liver.lr_at(41), 3e-6, 1e-18);
  EXPECT_NEAR(liver.lr_at(42), 3e-7, 1e-19);
  LrSchedule lesion{3e-5, 0.2, 0, {45}};  // Small lesion
  EXPECT_DOUBLE_EQ(lesion.lr_at(44), 3e-5);
  EXPECT_NEAR(lesion.lr_at(45), 6e-6, 1e-18);
  LrSchedule step{1e-5, 0.1, 30, {}};  // the Baseline's StepLR(30)
  EXPECT_DOUBLE_EQ(step.lr_at(29), 1e-5);
  EXPECT_NEAR(step.lr_at(30), 1e-6, 1e-19);
  EXPECT_NEAR(step.lr_at(60), 1e-7, 1e-20);
  lits::Setup s;
  s.set("Training", "lr", Value::floating(3e-5));
  s.set("Training", "gamma", Value::floating(0.1));
  s.set("Training", "step_size", Value::list({Value::integer(42), Value::integer(25)}));
  expect_contains(error_of([&] { lr_schedule_from(s); }), {"step_size [42, 25]", "ascending"});
}

TEST(Metrics, ReferenceAndLitsDiceConventions) {
  EXPECT_DOUBLE_EQ(reference_dice({0, 0, 0}), 1e-4);  // empty vs empty: the reference's clip
  EXPECT_DOUBLE_EQ(case_dice({0, 0, 0}), 1.0);        // LiTS per case
  EXPECT_NEAR(reference_dice({30, 40, 50}), 60.0 / (90 + 1e-6), 1e-12);
  EXPECT_DOUBLE_EQ(case_dice({30, 40, 50}), 60.0 / 90.0);
  EXPECT_DOUBLE_EQ(reference_dice({50, 50, 50}), 0.9999);
}

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lits_train_files_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Files, SafetensorsRoundTripWithTheStandardLayout) {
  const Tensor a = Tensor::from_values({1.5, -2.0, 3.25, 4.0, 5.0, 6.0}, {2, 3});
  const Tensor b = Tensor::from_ints({7, -8, 9}, {3});
  const Tensor c = Tensor::from_values({0.1}, {1}, DType::kFloat64);
  const std::string path = (dir_ / "t.safetensors").string();
  write_safetensors(path, {{"a.weight", a}, {"b", b}, {"c", c}}, {{"note", "x\"y"}});
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  EXPECT_EQ(n % 8, 0u);
  EXPECT_NE(header.find("\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), std::string::npos)
      << header;
  EXPECT_NE(header.find("\"b\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[24,48]}"), std::string::npos);
  std::map<std::string, std::string> meta;
  const NamedTensors back = read_safetensors(path, &meta);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].first, "a.weight");
  EXPECT_EQ(back[0].second.to_vector(), a.to_vector());
  EXPECT_EQ(back[1].second.to_ints(), b.to_ints());
  EXPECT_EQ(back[2].second.dtype(), DType::kFloat64);
  EXPECT_EQ(meta["note"], "x\"y");
  // Truncated: the last tensor's bytes are missing.
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 4);
  expect_contains(error_of([&] { read_safetensors(path); }), {"t.safetensors", "'c'", "truncated"});
  std::ofstream(dir_ / "bad.safetensors") << "hello world, not a safetensors file";
  expect_contains(error_of([&] { read_safetensors((dir_ / "bad.safetensors").string()); }), {"not a safetensors"});
}

TEST_F(Files, PngFilesDecodeToTheirPixels) {
  std::vector<uint8_t> px(7 * 5);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 37);
  const std::string path = (dir_ / "g.png").string();
  write_png_gray(path, 7, 5, px);
  std::ifstream in(path, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(b.size(), 8u + 25u + 12u + 12u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 | uint32_t(uint8_t(b[at + 2])) << 8 |
           uint8_t(b[at + 3]);
  };
  EXPECT_EQ(b.substr(12, 4), "IHDR");
  EXPECT_EQ(u32(16), 7u);
  EXPECT_EQ(u32(20), 5u);
  EXPECT_EQ(u32(8 + 8 + 13), uint32_t(crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data() + 12), 17)));
  const size_t idat = 8 + 25;
  EXPECT_EQ(b.substr(idat + 4, 4), "IDAT");
  std::vector<uint8_t> raw(5 * 8);
  uLongf n = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(b.data() + idat + 8), u32(idat)), Z_OK);
  ASSERT_EQ(n, 40u);
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(raw[static_cast<size_t>(r * 8)], 0);  // filter type none
    for (int c = 0; c < 7; ++c) EXPECT_EQ(raw[static_cast<size_t>(r * 8 + 1 + c)], px[static_cast<size_t>(r * 7 + c)]);
  }
  EXPECT_EQ(b.substr(b.size() - 8, 4), "IEND");
}

class Training : public PhantomStore {
 protected:
  void SetUp() override { make_store(); }
  TrainOptions options(const std::string& save) const { return tiny_options(store_dir(), dir_ / save); }
  static NamedTensors weights(const std::string& run, const char* which = "checkpoint_latest") {
    return read_safetensors((fs::path(run) / (std::string(which) + ".safetensors")).string());
  }
  static void expect_identical(const NamedTensors& a, const NamedTensors& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].first, b[i].first);
      ASSERT_EQ(a[i].second.nbytes(), b[i].second.nbytes());
      EXPECT_EQ(std::memcmp(a[i].second.data_ptr(), b[i].second.data_ptr(), static_cast<size_t>(a[i].second.nbytes())),
                0)
          << a[i].first << " differs";
    }
  }
};

TEST_F(Training, SameSeedGivesBitIdenticalWeightsAndTheRunFolderHoldsItsFiles) {
  const TrainReport a = train_run(tiny_setup(), options("a"));
  const TrainReport b = train_run(tiny_setup(), options("b"));
  EXPECT_EQ(a.steps, 48);
  EXPECT_EQ(a.epochs_done, 2);
  expect_identical(weights(a.run_dir), weights(b.run_dir));
  EXPECT_EQ(fs::path(a.run_dir).filename(), "vUnet2D_tiny");
  for (const char* f : {"config.json", "parameters.txt", "log.csv", "training_results.svg",
                        "checkpoint_latest.safetensors", "checkpoint_latest.json", "checkpoint_best.safetensors",
                        "checkpoint_best.json", "samples_latest.png", "samples_best.png"})
    EXPECT_TRUE(fs::exists(fs::path(a.run_dir) / f)) << f;
  std::ifstream log(fs::path(a.run_dir) / "log.csv");
  std::string header, row1, row2, extra;
  std::getline(log, header);
  std::getline(log, row1);
  std::getline(log, row2);
  EXPECT_EQ(header.rfind("Epoch,Time,Training Loss,Training Dice,Validation Dice,", 0), 0u);
  EXPECT_EQ(row1.rfind("0,", 0), 0u);
  EXPECT_EQ(row2.rfind("1,", 0), 0u);
  EXPECT_FALSE(std::getline(log, extra));
  // The run's setup reads back, and the weights changed from the initial ones.
  const lits::Setup back = read_run_setup(a.run_dir);
  EXPECT_EQ(back.at("filter_start").as_int("filter_start"), 4);
  EXPECT_GT(a.best_val_dice, 0.0);
  // A second run with the same name gets __V2.
  EXPECT_EQ(fs::path(train_run(tiny_setup(),
                               [&] {
                                 TrainOptions o = options("a");
                                 o.epochs = 0;
                                 return o;
                               }())
                         .run_dir)
                .filename(),
            "vUnet2D_tiny__V2");
}

// Slices whose height and width are not multiples of the network's size divisor (8 for 4 levels): the
// training crops fit, and validation runs the whole 122 x 101 slices padded to 128 x 104 and cropped back.
class OddSizeTraining : public PhantomStore {
 protected:
  void SetUp() override { make_store(4, 128, 12, 122, 101); }
};

TEST_F(OddSizeTraining, A122x101StoreTrainsAndValidates) {
  lits::Setup s = tiny_setup();
  s.set("Network", "structure", parse_value("[1, 1, 1, 1]", "test"));
  UNetConfig c = unet_config_from(s);
  ASSERT_EQ(unet_size_divisor(c), 8);
  const TrainReport r = train_run(s, tiny_options(store_dir(), dir_ / "runs", 1));
  EXPECT_EQ(r.epochs_done, 1);
  EXPECT_TRUE(fs::exists(fs::path(r.run_dir) / "checkpoint_best.safetensors"));
  EXPECT_TRUE(std::isfinite(r.best_val_dice));
  EXPECT_GE(r.best_val_dice, 0.0);
}

TEST_F(Training, ResumeContinuesBitForBit) {
  const TrainReport straight = train_run(tiny_setup(), options("straight"));
  // 1 epoch, then resume for the second.
  TrainOptions first = options("split");
  first.epochs = 1;
  const TrainReport one = train_run(tiny_setup(), first);
  TrainOptions rest = options("unused");
  rest.resume = one.run_dir;
  rest.epochs = 2;
  const TrainReport two = train_run(read_run_setup(one.run_dir), rest);
  EXPECT_EQ(two.run_dir, one.run_dir);
  EXPECT_EQ(two.steps, 48);
  expect_identical(weights(straight.run_dir), weights(one.run_dir));
  // Stopped inside epoch 0 after 7 steps, then inside epoch 1, then to the end.
  TrainOptions part = options("parts");
  part.max_steps = 7;
  const TrainReport p1 = train_run(tiny_setup(), part);
  EXPECT_TRUE(p1.stopped);
  EXPECT_EQ(p1.steps, 7);
  part.resume = p1.run_dir;
  part.max_steps = 25;
  const TrainReport p2 = train_run(read_run_setup(p1.run_dir), part);
  EXPECT_TRUE(p2.stopped);
  EXPECT_EQ(p2.steps, 32);
  part.max_steps = -1;
  const TrainReport p3 = train_run(read_run_setup(p1.run_dir), part);
  EXPECT_FALSE(p3.stopped);
  expect_identical(weights(straight.run_dir), weights(p1.run_dir));
  const LoadedCheckpoint a = load_checkpoint((fs::path(straight.run_dir) / "checkpoint_latest").string());
  const LoadedCheckpoint b = load_checkpoint((fs::path(p1.run_dir) / "checkpoint_latest").string());
  ASSERT_EQ(a.state.rows.size(), 2u);
  ASSERT_EQ(b.state.rows.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.state.rows[i].train_loss, b.state.rows[i].train_loss);
    EXPECT_EQ(a.state.rows[i].train_dice, b.state.rows[i].train_dice);
    EXPECT_EQ(a.state.rows[i].val_dice, b.state.rows[i].val_dice);
  }
}

// Parameters only (buffers such as BatchNorm's running statistics move in training mode even at lr 0).
NamedTensors parameters_of(const std::string& run, const char* which) {
  const LoadedCheckpoint c = load_checkpoint((fs::path(run) / which).string());
  NamedTensors p;
  for (const auto& [n, t] : c.model)
    if (n.find("running_") == std::string::npos && n.find("num_batches") == std::string::npos) p.emplace_back(n, t);
  return p;
}

TEST_F(Training, ALesionRunStartsFromTheLiverRunAndReplacesMismatchedHeads) {
  TrainOptions lo = options("liver");
  lo.epochs = 1;
  const TrainReport liver = train_run(tiny_setup(), lo);
  // A lesion run without a Network section, initialised from the liver run, at lr 0: its parameters are the
  // liver run's best ones.
  lits::Setup lesion = tiny_setup();
  lesion.set("Network", "filter_start", Value::integer(32));  // replaced by the liver run's Network section
  lesion.set("Training", "data", Value::string("lesion"));
  lesion.set("Training", "loss_func", Value::string("multiclass_combined"));
  lesion.set("Training", "lr", Value::floating(0.0));
  lesion.set("Training", "savename", Value::string("tiny_lesion"));
  TrainOptions o = options("lesion");
  o.init = liver.run_dir;
  o.epochs = 1;
  const TrainReport les = train_run(lesion, o);
  EXPECT_EQ(read_run_setup(les.run_dir).at("filter_start").as_int("filter_start"), 4);  // inherited architecture
  expect_identical(parameters_of(liver.run_dir, "checkpoint_best"), parameters_of(les.run_dir, "checkpoint_latest"));
  // A one-channel loss needs another output head: only output.* differ from the liver run.
  lesion.set("Training", "loss_func", Value::string("binary_pwce"));
  lesion.set("Training", "savename", Value::string("tiny_binary"));
  const TrainReport bin = train_run(lesion, o);
  const NamedTensors a = parameters_of(liver.run_dir, "checkpoint_best"),
                     b = parameters_of(bin.run_dir, "checkpoint_latest");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first.rfind("output.", 0) == 0) {
      EXPECT_NE(a[i].second.shape(), b[i].second.shape()) << a[i].first;
    } else {
      EXPECT_EQ(std::memcmp(a[i].second.data_ptr(), b[i].second.data_ptr(), static_cast<size_t>(a[i].second.nbytes())),
                0)
          << a[i].first;
    }
  }
  o.init = (dir_ / "no_such_run").string();
  expect_contains(error_of([&] { train_run(lesion, o); }), {"no_such_run", "does not exist"});
}

TEST_F(Training, ANonFiniteLossStopsNamingEpochAndStep) {
  lits::Setup s = tiny_setup();
  s.set("Training", "lr", Value::floating(1e30));  // the first update blows the weights up
  const std::string message = error_of([&] { train_run(s, options("nan")); });
  expect_contains(message, {"training loss became", "epoch 0", "step 2", "no checkpoint was written yet"});
}

TEST_F(Training, BadSetupsAndFoldersAreNamed) {
  lits::Setup s = tiny_setup();
  s.set("Training", "crop_size", parse_value("[30, 30]", "test"));
  expect_contains(error_of([&] { train_run(s, options("bad")); }), {"crop_size [30, 30]", "divisible", "4"});
  TrainOptions o = options("bad");
  o.data = (dir_ / "nowhere").string();
  expect_contains(error_of([&] { train_run(tiny_setup(), o); }), {"nowhere"});
  o = options("bad");
  o.resume = (dir_ / "no_run").string();
  expect_contains(error_of([&] { train_run(tiny_setup(), o); }), {"no_run"});
}

// Runs `lits train` on a tiny setup until its first checkpoint exists, waits `ms`, sends `sig`; returns how
// it ended (its output also in DIR/train.out) and the run folder.
std::pair<Finished, fs::path> train_and_signal(const fs::path& dir, const std::string& store, int sig, int ms) {
  const fs::path save = dir / "signalled";
  const fs::path setup_file = dir / "tiny.txt";
  {
    std::ofstream f(setup_file);
    f << "=== one run on top of the baseline\n#Network\nstructure: [[1, 1, 1]]\nfilter_start: [4]\nchannels: [1]\n"
         "#Training\ndata: ['liver']\ncrop_size: [[32, 32]]\nbatch_size: [2]\nn_epochs: [1000]\nsavename: ['sig']\n"
         "loss_func: ['multiclass_pwce']\n";
  }
  const fs::path run = save / "vUnet2D_sig";
  const Finished f =
      run_process({LITS_TOOL, "train", "--setup", setup_file.string(), "--data", store, "--save", save.string(),
                   "--device", "cpu", "--no-date", "--workers", "1"},
                  dir / "train.out", 300, [&](pid_t pid) {
                    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
                    while (!fs::exists(run / "checkpoint_latest.json") && std::chrono::steady_clock::now() < deadline)
                      std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    EXPECT_TRUE(fs::exists(run / "checkpoint_latest.json")) << "no checkpoint after the first epoch";
                    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                    EXPECT_EQ(::kill(pid, sig), 0);
                  });
  return {f, run};
}

// SIGINT: the step in progress finishes, checkpoint_latest is written, the exit status is 130, and the
// message says how to resume; the resumed run then finishes the epoch it was in.
TEST_F(Training, SigintWritesACheckpointAndExitsCleanly) {
  const auto [f, run] = train_and_signal(dir_, store_dir(), SIGINT, 300);
  ASSERT_EQ(f.signal, 0) << f.output;
  EXPECT_EQ(f.exit_status, 130);
  expect_contains(f.output, {"stopped by SIGINT", "lits train --resume"});
  const LoadedCheckpoint c = load_checkpoint((run / "checkpoint_latest").string());
  EXPECT_GE(c.state.epoch, 1);
  TrainOptions o = options("unused");
  o.resume = run.string();
  o.epochs = c.state.epoch + 1;
  const TrainReport r = train_run(read_run_setup(run.string()), o);
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.epochs_done, c.state.epoch + 1);
  EXPECT_EQ(r.steps, (c.state.epoch + 1) * 24);
}

// `lits train` killed with SIGKILL in the middle of a later epoch leaves checkpoint_latest loadable.
TEST_F(Training, SigkillInMidEpochLeavesALoadableCheckpoint) {
  const auto [f, run] = train_and_signal(dir_, store_dir(), SIGKILL, 300);
  EXPECT_EQ(f.signal, SIGKILL) << f.output;
  const LoadedCheckpoint c = load_checkpoint((run / "checkpoint_latest").string());
  EXPECT_GE(c.state.epoch, 1);
  EXPECT_FALSE(c.model.empty());
}

}  // namespace
}  // namespace lits::testing
