// `lits evaluate` over folders of hand-made label volumes: files paired by number, liver = label >= 1 and
// lesion = label 2, the per-case and global Dice worked out by hand, the LiTS convention for cases without
// lesions, missing and misshapen predictions reported and scored as empty, and the JSON / CSV files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "pipeline/infer/evaluate.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class Evaluate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lits_evaluate_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "truth");
    fs::create_directories(dir_ / "pred");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A 10 x 10 x 4 label volume (spacing 1 x 1 x 2 mm): liver = rows [0, liver_rows) of every slice, lesion =
  // the first `lesion` voxels of slice 0.
  static std::vector<uint8_t> labels(int64_t liver_rows, int64_t lesion) {
    std::vector<uint8_t> v(400, 0);
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t j = 0; j < 10; ++j)
        for (int64_t i = 0; i < liver_rows; ++i) v[static_cast<size_t>((k * 10 + j) * 10 + i)] = 1;
    for (int64_t p = 0; p < lesion; ++p) v[static_cast<size_t>(p)] = 2;
    return v;
  }
  void write(const char* folder, const std::string& name, const std::vector<uint8_t>& v,
             std::array<int64_t, 3> dims = {10, 10, 4}) {
    write_nifti_mask((dir_ / folder / name).string(), make_nifti_geometry(dims, {1.0, 1.0, 2.0}), v);
  }
  fs::path dir_;
};

TEST_F(Evaluate, PairsByNumberAndScoresAsLits) {
  write("truth", "test-segmentation-0.nii.gz", labels(6, 4));  // liver 240 voxels, lesion 4
  write("pred", "test-segmentation-0.nii", labels(6, 4));      // identical
  write("truth", "test-segmentation-1.nii.gz", labels(5, 0));  // no lesion
  write("pred", "test-segmentation-1.nii", labels(4, 0));      // liver 160 of 200, no lesion
  write("truth", "test-segmentation-2.nii.gz", labels(5, 2));  // missing prediction
  write("truth", "test-segmentation-3.nii.gz", labels(5, 0));
  write("pred", "test-segmentation-3.nii", std::vector<uint8_t>(300, 1), {10, 10, 3});  // other dims
  write("pred", "test-segmentation-8.nii", labels(5, 0));                               // no truth: ignored
  const EvaluationReport r = evaluate_folders((dir_ / "pred").string(), (dir_ / "truth").string());
  ASSERT_EQ(r.cases.size(), 4u);
  EXPECT_EQ(r.problems, 2);
  EXPECT_TRUE(r.errors.empty());
  // Case 0: perfect.
  EXPECT_DOUBLE_EQ(r.cases[0].liver.dice, 1.0);
  EXPECT_DOUBLE_EQ(r.cases[0].lesion.dice, 1.0);
  EXPECT_DOUBLE_EQ(r.cases[0].liver.assd, 0.0);
  // Case 1: liver 2 * 160 / (160 + 200) = 8/9, VOE 1 - 160/200, RVD -0.2; no lesion anywhere scores 1.
  EXPECT_NEAR(r.cases[1].liver.dice, 8.0 / 9.0, 1e-12);
  EXPECT_NEAR(r.cases[1].liver.voe, 0.2, 1e-12);
  EXPECT_NEAR(r.cases[1].liver.rvd, -0.2, 1e-12);
  EXPECT_DOUBLE_EQ(r.cases[1].lesion.dice, 1.0);
  // Case 2: scored as an empty prediction; case 3 likewise, for its dims.
  EXPECT_DOUBLE_EQ(r.cases[2].liver.dice, 0.0);
  EXPECT_DOUBLE_EQ(r.cases[2].lesion.dice, 0.0);
  expect_contains(r.cases[2].problem, {"no prediction of case test-segmentation-2"});
  expect_contains(r.cases[3].problem, {"test-segmentation-3.nii", "10 x 10 x 3", "10 x 10 x 4"});
  EXPECT_DOUBLE_EQ(r.cases[3].lesion.dice, 1.0);  // no lesion in the truth, none predicted
  // Summaries: liver per case (1 + 8/9 + 0 + 0) / 4; global 2 * (240 + 160) / ((240 + 240) + (160 + 200) + 200 + 200).
  EXPECT_NEAR(r.liver.dice_per_case, (1.0 + 8.0 / 9.0) / 4.0, 1e-12);
  EXPECT_NEAR(r.liver.dice_global, 800.0 / 1240.0, 1e-12);
  EXPECT_NEAR(r.lesion.dice_per_case, (1.0 + 1.0 + 0.0 + 1.0) / 4.0, 1e-12);
  EXPECT_NEAR(r.lesion.dice_global, 8.0 / (8.0 + 2.0), 1e-12);
  EXPECT_TRUE(std::isfinite(r.liver.assd));  // the mean over the cases where it is defined

  const std::string json = (dir_ / "e.json").string(), csv = (dir_ / "e.csv").string();
  write_evaluation_json(json, r);
  write_evaluation_csv(csv, r);
  const Json j = read_json_file(json);
  EXPECT_NEAR(j.find("liver")->find("dice_global")->number, 800.0 / 1240.0, 1e-12);
  EXPECT_EQ(j.find("cases")->items.size(), 4u);
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header.rfind("case,liver_dice,", 0), 0u);
  EXPECT_EQ(row.rfind("\"test-segmentation-0\",1,0,0,0,0,1,0,0,0,0,", 0), 0u) << row;
  EXPECT_EQ(j.find("cases")->items[0].find("case")->text, "test-segmentation-0");
}

TEST_F(Evaluate, UnreadableTruthIsReportedAndFoldersChecked) {
  write("truth", "test-segmentation-0.nii.gz", labels(6, 4));
  write("pred", "test-segmentation-0.nii", labels(6, 4));
  std::ofstream(dir_ / "truth" / "test-segmentation-1.nii") << "garbage";
  const EvaluationReport r = evaluate_folders((dir_ / "pred").string(), (dir_ / "truth").string());
  EXPECT_EQ(r.cases.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  expect_contains(r.errors[0], {"test-segmentation-1.nii"});
  expect_contains(error_of([&] { evaluate_folders((dir_ / "nope").string(), (dir_ / "truth").string()); }),
                  {"prediction folder", "nope"});
  fs::create_directories(dir_ / "empty");
  expect_contains(error_of([&] { evaluate_folders((dir_ / "pred").string(), (dir_ / "empty").string()); }),
                  {"no .nii or .nii.gz files", "truth folder"});
}

// The outputs of `lits segment` carry their volumes' names: predictions pair with the truth by the same
// name (any letter case), else by the number at the end of the name, whatever the prefixes; a folder
// with *segmentation* files gives only those (the LiTS Training_Data layout holds volumes beside them).
TEST_F(Evaluate, PairsByNameOrNumberWhateverThePrefix) {
  write("truth", "segmentation-4.nii", labels(5, 2));
  write("truth", "volume-4.nii", std::vector<uint8_t>(400, 1));  // a CT beside its labels: not a truth
  write("pred", "liver-4.nii.gz", labels(5, 2));
  const EvaluationReport r = evaluate_folders((dir_ / "pred").string(), (dir_ / "truth").string());
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.problems, 0);
  EXPECT_EQ(r.cases[0].name, "segmentation-4");
  EXPECT_DOUBLE_EQ(r.cases[0].liver.dice, 1.0);
  EXPECT_DOUBLE_EQ(r.cases[0].lesion.dice, 1.0);
  expect_contains(r.cases[0].prediction, {"liver-4.nii.gz"});
  fs::create_directories(dir_ / "truth_named");
  fs::create_directories(dir_ / "pred_named");
  write("truth_named", "patient_A.nii.gz", labels(6, 0));
  write("truth_named", "patient_B.nii.gz", labels(6, 0));
  write("pred_named", "PATIENT_A.nii", labels(6, 0));
  write("pred_named", "patient_B.nii", labels(3, 0));
  const EvaluationReport n = evaluate_folders((dir_ / "pred_named").string(), (dir_ / "truth_named").string());
  ASSERT_EQ(n.cases.size(), 2u);
  EXPECT_EQ(n.problems, 0);
  EXPECT_EQ(n.cases[0].name, "patient_A");
  EXPECT_DOUBLE_EQ(n.cases[0].liver.dice, 1.0);
  EXPECT_NEAR(n.cases[1].liver.dice, 2.0 * 120 / (120 + 240), 1e-12);
}

TEST_F(Evaluate, NothingPairingSaysWhatBothFoldersHold) {
  write("truth", "segmentation-1.nii", labels(6, 0));
  write("pred", "case-7.nii", labels(6, 0));
  write("pred", "other.nii", labels(6, 0));
  expect_contains(error_of([&] { evaluate_folders((dir_ / "pred").string(), (dir_ / "truth").string()); }),
                  {"no prediction pairs", "segmentation-1.nii", "case-7.nii", "other.nii", "2 files"});
}

// A prediction on another grid (shifted 2 mm, or flipped) scores as empty with the reason, as one with
// labels beyond 0/1/2 (a multi-organ map); a truth with such labels is an error.
TEST_F(Evaluate, OtherGeometryAndOtherLabelsAreReported) {
  write("truth", "segmentation-0.nii", labels(6, 0));
  write("truth", "segmentation-1.nii", labels(6, 0));
  write("truth", "segmentation-2.nii", labels(6, 0));
  write("truth", "segmentation-3.nii", labels(6, 0));
  NiftiGeometry moved = make_nifti_geometry({10, 10, 4}, {1.0, 1.0, 2.0});
  moved.srow_x[3] += 2.0;
  moved.qoffset_x += 2.0;
  write_nifti_mask((dir_ / "pred" / "segmentation-0.nii").string(), moved, labels(6, 0));
  NiftiGeometry nearly = make_nifti_geometry({10, 10, 4}, {1.0, 1.0, 2.0});
  nearly.srow_x[3] += 5e-4;
  nearly.qoffset_x += 5e-4;
  write_nifti_mask((dir_ / "pred" / "segmentation-1.nii").string(), nearly, labels(6, 0));
  std::vector<uint8_t> organs = labels(6, 0);
  organs[5] = 42;
  write("pred", "segmentation-2.nii", organs);
  write("pred", "segmentation-3.nii", labels(6, 0));
  organs[7] = 7;
  write("truth", "segmentation-5.nii", organs);
  const EvaluationReport r = evaluate_folders((dir_ / "pred").string(), (dir_ / "truth").string());
  ASSERT_EQ(r.cases.size(), 4u);
  EXPECT_EQ(r.problems, 2);
  expect_contains(r.cases[0].problem, {"segmentation-0.nii", "affines differ by up to 2 mm"});
  EXPECT_DOUBLE_EQ(r.cases[0].liver.dice, 0.0);
  EXPECT_TRUE(r.cases[1].problem.empty()) << "0.5 um is within the 1e-3 mm tolerance: " << r.cases[1].problem;
  EXPECT_DOUBLE_EQ(r.cases[1].liver.dice, 1.0);
  expect_contains(r.cases[2].problem, {"segmentation-2.nii", "labels other than 0, 1 and 2", "42"});
  EXPECT_DOUBLE_EQ(r.cases[3].liver.dice, 1.0);
  ASSERT_EQ(r.errors.size(), 1u);
  expect_contains(r.errors[0], {"segmentation-5.nii", "7, 42"});
}

}  // namespace
}  // namespace lits::testing
