// `make install`'s tree, without installing anything outside the test's own folder: this build is
// installed with `cmake --install BUILD --prefix TMP`, and the installed `lits`, run from a folder outside
// the source tree, finds its presets beside itself (TMP/share/lits/presets); so does a copy of the tree
// moved elsewhere once the first is gone. A preset that exists only in the installed tree proves the
// lookup relative to the binary (the source tree's folder, the last fallback, does not have it), and the
// error for a name found nowhere lists the folders it looked in.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/errors.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSmallLiverCount = "network: 26453082 parameters";
constexpr const char* kInstalledOnly = "Installed_Only_Small_Liver.txt";

class InstallTree : public TempDirTest {
 protected:
  Finished run(const std::vector<std::string>& args, const std::string& log) const {
    return run_process(args, dir_ / log, 120);
  }
  // `lits ARGS` of the tree at `prefix`, run from a working folder outside the source tree.
  Finished lits(const fs::path& prefix, const std::vector<std::string>& args) const {
    const fs::path work = dir_ / "work";
    fs::create_directories(work);
    std::vector<std::string> all{"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", work.string(),
                                 (prefix / "bin" / "lits").string()};
    all.insert(all.end(), args.begin(), args.end());
    return run(all, "lits.log");
  }
  // The tree at `prefix` runs `lits info` on a preset of the source tree and on one only it has, and
  // names its own presets folder first when a name is found nowhere.
  void expect_finds_its_presets(const fs::path& prefix) const {
    for (const std::string name : {"Setup_Small_Liver.txt", kInstalledOnly}) {
      const Finished f = lits(prefix, {"info", "--setup", name});
      EXPECT_EQ(f.exit_status, 0) << name << ":\n" << f.output;
      expect_contains(f.output, {kSmallLiverCount});
    }
    const Finished f = lits(prefix, {"info", "--setup", "no_such_setup.txt"});
    EXPECT_EQ(f.exit_status, 1) << f.output;
    const std::string presets = (prefix / "share" / "lits" / "presets").string();
    expect_contains(f.output, std::vector<std::string>{"setup file 'no_such_setup.txt' not found",
                                                       "preset folders " + presets + ", ", "models/presets"});
  }
};

TEST_F(InstallTree, InstalledAndRelocatedTreesFindTheirPresets) {
  const fs::path prefix = dir_ / "prefix";
  const Finished install = run({LITS_CMAKE, "--install", LITS_BUILD_DIR, "--prefix", prefix.string()}, "install.log");
  ASSERT_EQ(install.exit_status, 0) << install.output;
  const fs::path doc = prefix / "share" / "doc" / "lits";
  for (const fs::path& file : {prefix / "bin" / "lits", prefix / "share/lits/presets/Baseline_Parameters.txt",
                               prefix / "share/lits/presets/Setup_Small_Liver.txt", doc / "README.md", doc / "LICENSE",
                               doc / "docs/architecture.md"})
    EXPECT_TRUE(fs::is_regular_file(file)) << file << " not installed:\n" << install.output;
  const fs::path presets = prefix / "share" / "lits" / "presets";
  fs::copy_file(presets / "Setup_Small_Liver.txt", presets / kInstalledOnly);
  expect_finds_its_presets(prefix);

  // The installed binary starts with the loader's cache ignored: its run path alone finds the libraries
  // outside the system folders (CUDA's, MPI's). Skipped where the loader has no --inhibit-cache.
  const fs::path loader = "/lib64/ld-linux-x86-64.so.2";
  if (fs::exists(loader) &&
      run({loader.string(), "--help"}, "loader.log").output.find("--inhibit-cache") != std::string::npos) {
    const Finished f =
        run({loader.string(), "--inhibit-cache", (prefix / "bin" / "lits").string(), "--version"}, "version.log");
    EXPECT_EQ(f.exit_status, 0) << f.output;
  }

  // Moved: copied elsewhere and the first tree removed.
  const fs::path moved = dir_ / "moved" / "lits-tree";
  fs::create_directories(moved.parent_path());
  fs::copy(prefix, moved, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::remove_all(prefix);
  expect_finds_its_presets(moved);
}

}  // namespace
}  // namespace lits::testing
