// The `lits` command's conventions, run as a user runs it: usage errors exit with 2 and suggest the nearest
// command or flag; other errors exit with 1 and read as a sentence, with the failed check and its source
// line only under --debug (or LITS_DEBUG=1); the compute --threads is taken after a command too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/errors.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lits::testing {
namespace {

class CliUsage : public TempDirTest {
 protected:
  Finished lits(const std::vector<std::string>& args) const {
    std::vector<std::string> all{LITS_TOOL};
    all.insert(all.end(), args.begin(), args.end());
    return run_process(all, dir_ / "out.log", 60);
  }
};

TEST_F(CliUsage, MistypedCommandsAndFlagsExitWith2AndASuggestion) {
  Finished f = lits({"segmnet"});
  EXPECT_EQ(f.exit_status, 2) << f.output;
  expect_contains(f.output, {"not expected: segmnet", "did you mean `lits segment`?"});
  f = lits({"bench", "lodaer"});
  EXPECT_EQ(f.exit_status, 2) << f.output;
  expect_contains(f.output, {"did you mean `lits bench loader`?"});
  f = lits({"segment", "-i", "a.nii", "--model", "m", "--ouptut", "o"});
  EXPECT_EQ(f.exit_status, 2) << f.output;
  expect_contains(f.output, {"did you mean --output?", "lits segment --help"});
  // A value of a flag is not taken for a command, and nothing close gets no guess.
  f = lits({"--threads", "2", "xyzzyplugh"});
  EXPECT_EQ(f.exit_status, 2) << f.output;
  EXPECT_EQ(f.output.find("did you mean"), std::string::npos) << f.output;
  EXPECT_EQ(lits({"segment", "--help"}).exit_status, 0);
}

TEST_F(CliUsage, ErrorsReadAsSentencesAndDebugAddsWhereTheyWereFound) {
  const std::string missing = (dir_ / "no_such_ct.nii.gz").string();
  const std::vector<std::string> args{"segment", "-i", missing, "-o", (dir_ / "out").string(), "--model", "m"};
  Finished f = lits(args);
  EXPECT_EQ(f.exit_status, 1) << f.output;
  expect_contains(f.output, {"lits: error: input '" + missing + "' does not exist"});
  EXPECT_EQ(f.output.find("check `"), std::string::npos) << f.output;
  EXPECT_EQ(f.output.find(".cpp:"), std::string::npos) << f.output;
  std::vector<std::string> debug = args;
  debug.push_back("--debug");
  f = lits(debug);
  EXPECT_EQ(f.exit_status, 1) << f.output;
  expect_contains(f.output, {"does not exist", "(check `", "case_files.cpp:"});
}

TEST_F(CliUsage, ComputeThreadsAreTakenAfterACommand) {
  const Finished f =
      lits({"bench", "infer", "--setup", "Demo_Liver.txt", "--device", "cpu", "--quick", "--threads", "1"});
  EXPECT_EQ(f.exit_status, 0) << f.output;
  expect_contains(f.output, {"multiply-add peak (1 thread)"});
}

}  // namespace
}  // namespace lits::testing
