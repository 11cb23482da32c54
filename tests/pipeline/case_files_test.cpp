// Which files `lits segment`, `submit` and `evaluate` take and how they pair them (pipeline/infer/case_files.h):
// NIfTI names in any letter case, files and folders as inputs, a folder's *volume* files preferred, clear
// errors for missing paths, other files and colliding names, and pairing by name before number.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/infer/case_files.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class CaseFiles : public TempDirTest {
 protected:
  fs::path touch(const std::string& rel) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    return p;
  }
  static std::vector<std::string> names(const std::vector<fs::path>& files) {
    std::vector<std::string> n;
    for (const fs::path& f : files) n.push_back(f.filename().string());
    return n;
  }
};

TEST(CaseNames, ExtensionsStemsAndNumbers) {
  EXPECT_TRUE(is_nifti_name("Volume-12.NII.GZ"));
  EXPECT_TRUE(is_nifti_name("ct.Nii"));
  EXPECT_FALSE(is_nifti_name("ct.nii.gz.txt"));
  EXPECT_FALSE(is_nifti_name(".nii"));
  EXPECT_FALSE(is_nifti_name("notes.txt"));
  EXPECT_EQ(nifti_stem("patient_A.NII.GZ"), "patient_A");
  EXPECT_EQ(nifti_suffix("patient_A.NII.GZ"), ".NII.GZ");
  EXPECT_EQ(nifti_stem("x.nii"), "x");
  EXPECT_EQ(file_number("test-volume-12.nii.gz"), 12);
  EXPECT_EQ(file_number("Volume-12.NII.GZ"), 12);
  EXPECT_EQ(file_number("volume-0.nii"), 0);
  EXPECT_EQ(file_number("case_3_ct.nii"), 3);
  EXPECT_EQ(file_number("volume.nii"), -1);
  EXPECT_EQ(file_number("id1234567890.nii"), -1);  // too long to be a case number
}

TEST_F(CaseFiles, InputsAreFilesAndFoldersInAnyLetterCase) {
  touch("a/Volume-12.NII.GZ");
  touch("a/volume-3.nii");
  touch("a/segmentation-3.nii");  // beside volumes in a LiTS folder: not an input
  touch("a/readme.txt");
  touch("b/scan.nii.gz");
  touch("b/other.nii");
  const fs::path single = touch("patient_A.nii.gz");
  EXPECT_EQ(names(nifti_inputs({(dir_ / "a").string()}, "input")),
            (std::vector<std::string>{"volume-3.nii", "Volume-12.NII.GZ"}));
  EXPECT_EQ(names(nifti_inputs({(dir_ / "b").string(), single.string()}, "input")),
            (std::vector<std::string>{"other.nii", "scan.nii.gz", "patient_A.nii.gz"}));
  // The same file twice is taken once; two files of one name would write one output.
  EXPECT_EQ(nifti_inputs({single.string(), single.string()}, "input").size(), 1u);
  const fs::path twin = touch("c/patient_A.nii.gz");
  expect_contains(error_of([&] {
                    nifti_inputs({single.string(), twin.string()}, "input");
                  }),
                  {"patient_A.nii.gz", "same file name", "rename"});
  expect_contains(error_of([&] { nifti_inputs({(dir_ / "nope.nii").string()}, "input"); }),
                  {"nope.nii", "does not exist"});
  expect_contains(error_of([&] { nifti_inputs({(dir_ / "a" / "readme.txt").string()}, "input"); }),
                  {"readme.txt", "not named .nii or .nii.gz"});
  fs::create_directories(dir_ / "empty");
  expect_contains(error_of([&] { nifti_inputs({(dir_ / "empty").string()}, "input"); }),
                  {"empty", "no .nii or .nii.gz files"});
  expect_contains(error_of([&] { nifti_inputs({}, "input"); }), {"no input given"});
}

TEST_F(CaseFiles, PairsByNameBeforeNumber) {
  const std::vector<fs::path> a{"v/test-volume-1.nii", "v/test-volume-2.nii", "v/patient_B.nii.gz", "v/x-9.nii",
                                "v/y-9.nii"};
  const std::vector<fs::path> b{"m/liver-2.nii", "m/test-volume-1.nii.gz", "m/PATIENT_B.nii", "m/liver-1.nii",
                                "m/z-9.nii"};
  const CasePairing p = pair_cases(a, b);
  ASSERT_EQ(p.pairs.size(), 5u);
  EXPECT_EQ(p.pairs[0].b, fs::path("m/test-volume-1.nii.gz"));  // by name, though liver-1 has its number
  EXPECT_EQ(p.pairs[0].key, "test-volume-1");
  EXPECT_EQ(p.pairs[1].b, fs::path("m/liver-2.nii"));  // by number
  EXPECT_EQ(p.pairs[1].key, "#2");
  EXPECT_EQ(p.pairs[2].b, fs::path("m/PATIENT_B.nii"));
  EXPECT_TRUE(p.pairs[3].b.empty()) << "two volumes numbered 9: no guess";
  EXPECT_TRUE(p.pairs[4].b.empty());
  EXPECT_EQ(p.b_unpaired, (std::vector<fs::path>{"m/liver-1.nii", "m/z-9.nii"}));
  expect_contains(p.describe(a, b), {"5 files (test-volume-1.nii, test-volume-2.nii, patient_B.nii.gz, x-9.nii, ...)"});
}

}  // namespace
}  // namespace lits::testing
