// The bad-input corpus (tests/support/bad_inputs.h, about 300 cases) against the readers and the `lits`
// command, each run as a child process and measured:
// - every NIfTI reader refuses each bad case with a lits::Error naming the file and the check it failed,
//   and reads each tolerated quirk;
// - `lits convert` and `lits segment` on a folder of the whole corpus name every bad volume with its
//   reason, convert or segment the good ones, end with exit status 1 (no signal, no hang) and leave no
//   half-written output;
// - `lits info` and `lits train` refuse every bad setup up front, naming the key and the limit;
// - the cases named in issue 19 (a NIfTI-2 voxel count that wraps, a negative byte count, a symbolic
//   link loop, a 40-level structure) each end in under 2 seconds and under 300 MB.
// Each case is printed with its exit status and message ("[ corpus ]" lines).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pipeline/io/nifti.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/trainer.h"
#include "tests/support/bad_inputs.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The output line that names `name` (the failure list of convert and segment), or "".
std::string line_naming(const std::string& output, const std::string& name) {
  size_t at = 0;
  while ((at = output.find(name, at)) != std::string::npos) {
    const size_t begin = output.rfind('\n', at) + 1, end = output.find('\n', at);
    const std::string line = output.substr(begin, end - begin);
    // A file name is followed by a quote, a colon or a space, so volume-1.nii does not match volume-12.nii.
    const char after = at + name.size() < output.size() ? output[at + name.size()] : '\n';
    if (after == '\'' || after == ':' || after == ' ' || after == '\n') return line;
    at += name.size();
  }
  return "";
}

class BadInputCorpus : public TempDirTest {};

TEST_F(BadInputCorpus, EveryNiftiCaseIsRefusedByEveryReaderNamingTheFile) {
  const std::vector<BadInput> cases = bad_nifti_inputs();
  ASSERT_GE(cases.size(), 250u);
  int refused = 0, tolerated = 0;
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.kind);
    const std::string path = write_bad_input(dir_, c).string();
    if (c.tolerated) {
      const NiftiVolume v = read_nifti(path);
      EXPECT_EQ(v.geometry.dims, (std::array<int64_t, 3>{8, 8, 4}));
      // Labels must be whole numbers 0..255, which a scaled quirk (scl_slope 1e38) need not give.
      const std::string labels = error_of([&] { EXPECT_EQ(read_nifti_labels(path).size(), 256u); });
      if (labels != "no error") {
        EXPECT_NE(labels.find(c.name), std::string::npos) << labels;
      }
      std::printf("[ corpus ] %-16s read (tolerated): %s\n", c.name.c_str(), c.kind.c_str());
      ++tolerated;
      continue;
    }
    std::string message;
    for (int reader = 0; reader < 3; ++reader) {
      message = error_of([&] {
        if (reader == 0) read_nifti_geometry(path);
        if (reader == 1) read_nifti(path);
        if (reader == 2) read_nifti_labels(path);
      });
      if (reader == 0 && c.data_only && message == "no error") continue;  // the header alone is sound
      EXPECT_NE(message.find(c.name), std::string::npos) << "reader " << reader << ": " << message;
      for (const std::string& part : c.expect)
        EXPECT_NE(message.find(part), std::string::npos)
            << "reader " << reader << " lacks '" << part << "': " << message;
    }
    std::printf("[ corpus ] %-16s %s: %s\n", c.name.c_str(), c.kind.c_str(), first_line(message).c_str());
    ++refused;
  }
  std::printf("[ corpus ] %zu NIfTI cases: %d refused by every reader, %d tolerated quirks read\n", cases.size(),
              refused, tolerated);
}

// What lits_fuzz_json found: a number beyond int64_t where an integer belongs (a training state's chunk
// counts of 6.7e33) was converted without a check, which is undefined behaviour (UBSan). Every integer
// field of the training state and the store's JSON is checked now.
TEST_F(BadInputCorpus, JsonNumbersBeyondIntegersAreRefusedByName) {
  TrainState s;
  s.chunk_dices = {0.5};
  const std::string good = s.to_json();
  EXPECT_NO_THROW(TrainState::from_json(good, "state.json"));
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? t : t.replace(at, from.size(), to);
  };
  expect_contains(error_of([&] {
                    TrainState::from_json(
                        with("\"chunk\": [0, 0, 0]", "\"chunk\": [0, 6666666666666666666666666666666660, 0]"),
                        "state.json");
                  }),
                  {"state.json", "chunk", "whole number within +-2^53"});
  expect_contains(error_of([&] { TrainState::from_json(with("\"epoch\": 0", "\"epoch\": 1e300"), "state.json"); }),
                  {"state.json", "epoch", "whole number"});
  expect_contains(error_of([&] { TrainState::from_json(with("\"step\": 0", "\"step\": 0.5"), "state.json"); }),
                  {"'step'", "whole number"});
}

// A store and a one-epoch tiny liver run, for the commands that need a trained network.
class BadInputCorpusRuns : public PhantomStore {
 protected:
  void SetUp() override {
    make_store(2, 64, 16);
    run_ = train_run(tiny_setup(), tiny_options(store_dir(), dir_ / "runs", 1)).run_dir;
  }
  // A folder holding `cases` (each volume-N with a good segmentation-N beside it).
  fs::path corpus_folder(const std::string& name, const std::vector<BadInput>& cases) const {
    const fs::path in = dir_ / name;
    fs::create_directories(in);
    for (const BadInput& c : cases) {
      write_bad_input(in, c);
      const std::string number = c.name.substr(7, c.name.find('.') - 7);
      std::ofstream(in / ("segmentation-" + number + ".nii"), std::ios::binary) << good_nifti1();
    }
    return in;
  }
  Finished lits(const std::vector<std::string>& args, const std::string& log, double limit_s = 300) const {
    std::vector<std::string> all = {LITS_TOOL};
    all.insert(all.end(), args.begin(), args.end());
    return run_process(all, dir_ / (log + ".log"), limit_s);
  }
  std::string run_;
};

// Every case of the corpus in one folder: each bad one named with its reason, the rest converted or
// segmented, exit status 1, nothing half-written.
TEST_F(BadInputCorpusRuns, ConvertAndSegmentNameEveryBadVolumeAndGoOn) {
  std::vector<BadInput> cases = bad_nifti_inputs();
  BadInput good;
  good.name = "volume-9999.nii";
  good.kind = "good";
  good.bytes = good_nifti1();
  good.tolerated = true;
  cases.push_back(good);
  const fs::path in = corpus_folder("corpus", cases);

  const fs::path store = dir_ / "corpus_store";
  const Finished conv = lits({"convert", "--in", in.string(), "--out", store.string(), "--workers", "2"}, "convert");
  ASSERT_TRUE(conv.started);
  EXPECT_FALSE(conv.timed_out);
  EXPECT_EQ(conv.signal, 0);
  EXPECT_EQ(conv.exit_status, 1) << conv.output;
  std::printf("[ corpus ] lits convert on %zu volumes: exit status %d, %.1f s, %ld MB\n", cases.size(),
              conv.exit_status, conv.seconds, conv.max_rss_mb);
  for (const BadInput& c : cases) {
    const std::string stem = c.name.substr(0, c.name.find('.'));
    if (c.tolerated) {
      EXPECT_TRUE(fs::exists(store / stem / "volume.json")) << c.name << " (" << c.kind << ") was not converted";
    } else {
      EXPECT_FALSE(fs::exists(store / stem)) << c.name << " (" << c.kind << ") is in the store";
      EXPECT_NE(line_naming(conv.output, c.name), "") << c.name << " (" << c.kind << ") is not named";
    }
  }
  for (const auto& f : fs::directory_iterator(store))
    EXPECT_NE(f.path().filename().string()[0], '.') << "left behind: " << f.path();

  const fs::path out = dir_ / "corpus_masks";
  const Finished seg =
      lits({"segment", "--volumes", in.string(), "--model", run_, "--out", out.string(), "--device", "cpu"}, "segment");
  ASSERT_TRUE(seg.started);
  EXPECT_FALSE(seg.timed_out);
  EXPECT_EQ(seg.signal, 0);
  EXPECT_EQ(seg.exit_status, 1) << seg.output;
  std::printf("[ corpus ] lits segment on %zu volumes: exit status %d, %.1f s, %ld MB\n", cases.size(), seg.exit_status,
              seg.seconds, seg.max_rss_mb);
  int masks = 0;
  for (const auto& f : fs::directory_iterator(out)) {
    EXPECT_NE(f.path().filename().string().find(".tmp"), 0u) << "left behind: " << f.path();
    ++masks;
  }
  const auto tolerated = std::count_if(cases.begin(), cases.end(), [](const BadInput& c) { return c.tolerated; });
  EXPECT_EQ(masks, tolerated);
  for (const BadInput& c : cases) {
    // segment lists files only: a folder named like a volume is not one of its inputs.
    if (c.tolerated || c.make == BadInput::Make::kDirectory) continue;
    const std::string line = line_naming(seg.output, c.name);
    EXPECT_NE(line, "") << c.name << " (" << c.kind << ") is not named by segment";
    for (const std::string& part : c.expect)
      EXPECT_NE(line.find(part), std::string::npos) << c.name << " lacks '" << part << "': " << line;
    std::printf("[ corpus ] segment %s\n", line.c_str());
  }
}

// The cases of issue 19's acceptance, each alone: a clear error in under 2 seconds and under 300 MB.
TEST_F(BadInputCorpusRuns, TheNamedCasesEndInTwoSecondsAndUnder300MB) {
  const std::vector<BadInput> all = bad_nifti_inputs();
  const auto find = [&](const std::string& kind) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const BadInput& c) { return c.kind == kind; });
    EXPECT_NE(it, all.end()) << kind;
    return it == all.end() ? BadInput{} : *it;
  };
  for (const std::string kind :
       {"nifti2 voxel count that wraps to 0 (2^32 x 2^32 x 1)",
        "nifti2 voxel count that wraps to 0 (2^32 x 2^32 x 1) (gzip)",
        "nifti2 negative byte count (2^31 x 2^31 x 1 int16 = 2^63 bytes)",
        "nifti2 negative byte count (2^31 x 2^31 x 1 int16 = 2^63 bytes) (gzip)", "symbolic link to itself"}) {
    const BadInput c = find(kind);
    const fs::path in = corpus_folder("one_" + c.name, {c});
    for (const char* command : {"segment", "convert"}) {
      const Finished f = std::string(command) == "segment"
                             ? lits({"segment", "--volumes", in.string(), "--model", run_, "--out",
                                     (in / "out").string(), "--device", "cpu"},
                                    "one", 10)
                             : lits({"convert", "--in", in.string(), "--out", (in / "store").string()}, "one", 10);
      EXPECT_EQ(f.exit_status, 1) << f.output;
      EXPECT_LT(f.seconds, 2.0) << kind;
      EXPECT_LT(f.max_rss_mb, 300) << kind;
      const std::string line = line_naming(f.output, c.name);
      EXPECT_NE(line, "") << f.output;
      std::printf("[ corpus ] %s on %s: exit status %d in %.2f s, %ld MB: %s\n", command, kind.c_str(), f.exit_status,
                  f.seconds, f.max_rss_mb, line.c_str());
    }
  }
  const std::vector<BadInput> setups = bad_setup_inputs();
  const BadInput deep = setups.front();
  ASSERT_EQ(deep.kind, "structure of 40 levels");
  const std::string file = write_bad_input(dir_, deep).string();
  for (const char* command : {"info", "train"}) {
    const Finished f = std::string(command) == "info" ? lits({"info", "--setup", file}, "deep", 10)
                                                      : lits({"train", "--setup", file, "--data", store_dir(), "--save",
                                                              (dir_ / "deep").string(), "--device", "cpu"},
                                                             "deep", 10);
    EXPECT_EQ(f.exit_status, 1) << f.output;
    EXPECT_LT(f.seconds, 2.0);
    EXPECT_LT(f.max_rss_mb, 300);
    expect_contains(f.output, {"structure", "at most 10"});
    std::printf("[ corpus ] %s on a 40-level structure: exit status %d in %.2f s, %ld MB: %s\n", command, f.exit_status,
                f.seconds, f.max_rss_mb, first_line(f.output.substr(f.output.find("structure"))).c_str());
  }
}

// Every bad setup: `lits info` and `lits train` refuse it before anything is built or written.
TEST_F(BadInputCorpusRuns, EveryBadSetupIsRefusedUpFrontByInfoAndTrain) {
  for (const BadInput& c : bad_setup_inputs()) {
    SCOPED_TRACE(c.name + ": " + c.kind);
    const std::string file = write_bad_input(dir_, c).string();
    const fs::path save = dir_ / ("save_" + c.name);
    const Finished info = lits({"info", "--setup", file}, "info", 30);
    const Finished train = lits(
        {"train", "--setup", file, "--data", store_dir(), "--save", save.string(), "--device", "cpu"}, "train", 30);
    for (const Finished* f : {&info, &train}) {
      EXPECT_EQ(f->exit_status, 1) << f->output;
      EXPECT_FALSE(f->timed_out);
      for (const std::string& part : c.expect) EXPECT_NE(f->output.find(part), std::string::npos) << f->output;
    }
    EXPECT_FALSE(fs::exists(save)) << "train wrote " << save;
    std::printf("[ corpus ] %s (%s): info %d, train %d: %s\n", c.name.c_str(), c.kind.c_str(), info.exit_status,
                train.exit_status,
                first_line(train.output.substr(
                               train.output.rfind("error") == std::string::npos ? 0 : train.output.rfind("error")))
                    .c_str());
  }
}

}  // namespace
}  // namespace lits::testing
