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
  expect_contains(r.cases[2].problem, {"no prediction numbered 2"});
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
  EXPECT_EQ(row.rfind("0,1,0,0,0,0,1,0,0,0,0,", 0), 0u) << row;
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
                  {"no *segmentation*"});
}

}  // namespace
}  // namespace lits::testing
