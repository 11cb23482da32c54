// What `lits segment` feeds the networks and what else it writes (pipeline/infer/orientation.h, inference.h):
// axis reordering of non-axial stacks (a coronal copy of a volume segments exactly as the axial original),
// spacing warnings, class probabilities that sum to 1 and match the mask, test-time mirroring that makes
// the result mirror-invariant, and half-resolution inference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "pipeline/data/phantom.h"
#include "pipeline/infer/evaluate.h"
#include "pipeline/infer/inference.h"
#include "pipeline/infer/orientation.h"
#include "pipeline/infer/segment.h"
#include "pipeline/io/json.h"
#include "pipeline/io/nifti.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

// `g` with its voxel axes reordered as reorder_axes reorders the voxels (sform only: the same world).
NiftiGeometry reordered_geometry(const NiftiGeometry& g, const AxisOrder& order) {
  NiftiGeometry r = g;
  r.dims = reordered_dims(g.dims, order);
  const auto a = g.affine();
  std::array<std::array<double, 4>*, 3> rows{&r.srow_x, &r.srow_y, &r.srow_z};
  for (int row = 0; row < 3; ++row) {
    for (int c = 0; c < 3; ++c) (*rows[row])[c] = a[row][order[c]];
    (*rows[row])[3] = a[row][3];
  }
  for (int c = 0; c < 3; ++c) r.pixdim[c] = g.pixdim[order[c]];
  r.qform_code = 0;
  r.sform_code = 1;
  return r;
}

TEST(Orientation, AxisOrdersOfAxialCoronalAndSagittalStacks) {
  NiftiGeometry g = make_nifti_geometry({4, 5, 6}, {1, 1, 1});
  EXPECT_EQ(g.orientation(), "RAS");
  EXPECT_TRUE(is_identity(axial_axis_order(g, "ct.nii")));
  const NiftiGeometry coronal = reordered_geometry(g, {0, 2, 1});
  EXPECT_EQ(coronal.orientation(), "RSA");
  EXPECT_EQ(axial_axis_order(coronal, "c.nii"), (AxisOrder{0, 2, 1}));
  const NiftiGeometry sagittal = reordered_geometry(g, {1, 2, 0});
  EXPECT_EQ(sagittal.orientation(), "ASR");
  EXPECT_EQ(axial_axis_order(sagittal, "s.nii"), (AxisOrder{2, 0, 1}));
  EXPECT_EQ(inverse_order({2, 0, 1}), (AxisOrder{1, 2, 0}));
  // Reordering and back is the identity on the voxels, and puts voxel (i, j, k) where the order says.
  std::vector<float> v(4 * 5 * 6);
  for (size_t p = 0; p < v.size(); ++p) v[p] = static_cast<float>(p);
  const std::vector<float> r = reorder_axes(v, {4, 5, 6}, {1, 2, 0});  // dims 5 x 6 x 4
  EXPECT_EQ(r[static_cast<size_t>((3 * 6 + 2) * 5 + 1)], v[static_cast<size_t>((2 * 5 + 1) * 4 + 3)]);
  EXPECT_EQ(reorder_axes(r, {5, 6, 4}, inverse_order({1, 2, 0})), v);
  // Two voxel axes along one body axis (an affine of rank 2) have no orientation.
  NiftiGeometry bad = g;
  bad.srow_z = {0, 0, 0, 0};
  bad.srow_y = {0, 1, 1, 0};
  bad.qform_code = 0;
  expect_contains(error_of([&] { axial_axis_order(bad, "odd.nii"); }), {"odd.nii", "no clear body direction"});
}

TEST(Orientation, SpacingWarningsBeyondOneAndAHalfTimes) {
  EXPECT_EQ(spacing_warning({0.8, 0.8}, {0.7, 0.7}), "");
  EXPECT_EQ(spacing_warning({1.04, 1.04}, {0.7, 0.7}), "");
  expect_contains(spacing_warning({1.1, 0.8}, {0.7, 0.7}), {"1.1 x 0.8 mm", "0.7 x 0.7 mm", "1.5 times"});
  expect_contains(spacing_warning({0.3, 0.3}, {0.7, 0.7}), {"0.3 x 0.3 mm"});
  EXPECT_EQ(spacing_warning({3, 3}, {0, 0}), "") << "unknown training spacing: no warning";
}

// A liver run of the tiny setup and one phantom test volume, with its truth.
class SegmentOptionsRuns : public PhantomStore {
 protected:
  void SetUp() override {
    make_store();
    liver_ = train_run(tiny_setup(), tiny_options(store_dir(), dir_ / "runs", 1)).run_dir;
    SynthOptions s;
    s.out = (dir_ / "test").string();
    s.train = 1;
    s.test = 1;
    s.phantom.size = 64;
    s.phantom.slices = 16;
    s.phantom.seed = 9;
    write_synth_dataset(s);
    volume_ = dir_ / "test" / "Test_Data" / "test-volume-0.nii.gz";
    truth_ = dir_ / "test" / "Test_Truth" / "test-segmentation-0.nii.gz";
  }
  SegmentOptions options(std::vector<std::string> inputs, const std::string& out) const {
    SegmentOptions o;
    o.inputs = std::move(inputs);
    o.out = (dir_ / out).string();
    o.models = {liver_};
    o.device = "cpu";
    o.batch = 5;
    return o;
  }
  std::string liver_;
  fs::path volume_, truth_;
};

// The acceptance: a phantom stored as a coronal stack under another name segments and scores
// exactly as its axial original.
TEST_F(SegmentOptionsRuns, ACoronalStackSegmentsAsItsAxialOriginal) {
  const AxisOrder coronal{0, 2, 1};
  fs::create_directories(dir_ / "coronal" / "ct");
  fs::create_directories(dir_ / "coronal" / "truth");
  const NiftiVolume v = read_nifti(volume_.string());
  const NiftiGeometry cg = reordered_geometry(v.geometry, coronal);
  ASSERT_EQ(cg.orientation()[2], 'A');
  write_nifti_volume((dir_ / "coronal" / "ct" / "patient_A.nii.gz").string(), cg,
                     reorder_axes(v.values, v.geometry.dims, coronal), NiftiType::kInt16);
  write_nifti_mask((dir_ / "coronal" / "truth" / "patient_A.nii.gz").string(), cg,
                   reorder_axes(read_nifti_labels(truth_.string()), v.geometry.dims, coronal));
  const SegmentReport axial = segment_liver(options({volume_.string()}, "axial_out"));
  const SegmentReport cor =
      segment_liver(options({(dir_ / "coronal" / "ct" / "patient_A.nii.gz").string()}, "coronal_out"));
  ASSERT_TRUE(axial.volumes[0].ok && cor.volumes[0].ok) << axial.volumes[0].error << cor.volumes[0].error;
  EXPECT_FALSE(axial.volumes[0].reordered);
  EXPECT_TRUE(cor.volumes[0].reordered);
  EXPECT_EQ(read_nifti_geometry(cor.volumes[0].output), read_nifti_geometry(cor.volumes[0].input));
  const std::vector<uint8_t> a = read_nifti_labels(axial.volumes[0].output);
  EXPECT_EQ(read_nifti_labels(cor.volumes[0].output), reorder_axes(a, v.geometry.dims, coronal));
  EXPECT_GT(std::count(a.begin(), a.end(), uint8_t{1}), 0) << "an empty mask proves little";
  const EvaluationReport ea = evaluate_folders((dir_ / "axial_out").string(), truth_.parent_path().string());
  const EvaluationReport ec = evaluate_folders((dir_ / "coronal_out").string(), (dir_ / "coronal" / "truth").string());
  ASSERT_EQ(ea.cases.size(), 1u);
  ASSERT_EQ(ec.cases.size(), 1u);
  EXPECT_EQ(ec.problems, 0) << ec.cases[0].problem;
  // The same score from the same voxels (the tiny 1-epoch network scores poorly: the masks' equality above
  // is the point).
  EXPECT_DOUBLE_EQ(ec.cases[0].liver.dice, ea.cases[0].liver.dice);
  EXPECT_EQ(ec.cases[0].liver.pred_voxels, ea.cases[0].liver.pred_voxels);
  EXPECT_GT(ec.cases[0].liver.truth_voxels, 0);
}

TEST_F(SegmentOptionsRuns, ProbabilitiesSumToOneAndGiveTheMask) {
  SegmentOptions o = options({volume_.string()}, "out");
  o.save_probabilities = true;
  o.postprocess = false;
  const SegmentReport r = segment_liver(o);
  ASSERT_TRUE(r.volumes[0].ok) << r.volumes[0].error;
  ASSERT_EQ(r.volumes[0].probability_files.size(), 2u);
  const NiftiVolume bg = read_nifti(r.volumes[0].probability_files[0]);
  const NiftiVolume fg = read_nifti(r.volumes[0].probability_files[1]);
  expect_contains(r.volumes[0].probability_files[1], {"probabilities", "test-volume-0_liver.nii.gz"});
  EXPECT_EQ(fg.geometry, read_nifti_geometry(volume_.string()));
  EXPECT_EQ(fg.datatype, NiftiType::kUint16);
  const std::vector<uint8_t> mask = read_nifti_labels(r.volumes[0].output);
  int64_t above = 0;
  for (size_t p = 0; p < fg.values.size(); ++p) {
    ASSERT_NEAR(bg.values[p] + fg.values[p], 1.0, 2e-5) << p;
    ASSERT_GE(fg.values[p], 0.0f);
    if (std::abs(fg.values[p] - 0.5f) > 1e-4f) {
      ASSERT_EQ(mask[p], fg.values[p] > 0.5f) << p;
    }
    above += fg.values[p] > 0.5f;
  }
  EXPECT_GT(above, 0);
  // The probability files are not taken for predictions: evaluate reads only the output folder itself.
  EXPECT_EQ(evaluate_folders(o.out, truth_.parent_path().string()).cases.size(), 1u);
}

// With mirroring, the probability of a mirrored volume is the mirrored probability: the four passes cover
// every mirror, so the average cannot depend on which way the slices came in. Without it, it does.
TEST_F(SegmentOptionsRuns, TtaMakesTheResultMirrorInvariant) {
  std::vector<LoadedModel> models;
  models.push_back(load_model(liver_, Device::cpu(), false));
  const SliceVolume v = read_slice_volume(volume_.string());
  SliceVolume m = v;  // mirrored left-right (columns)
  for (int64_t k = 0; k < v.depth; ++k)
    for (int64_t r = 0; r < v.height; ++r)
      for (int64_t q = 0; q < v.width; ++q)
        m.image[static_cast<size_t>((k * v.height + r) * v.width + q)] =
            v.image[static_cast<size_t>((k * v.height + r) * v.width + v.width - 1 - q)];
  auto mirror_gap = [&](const InferenceOptions& io) {
    const std::vector<float> a = ensemble_probability(models, v, 4, 8, Device::cpu(), io);
    const std::vector<float> b = ensemble_probability(models, m, 4, 8, Device::cpu(), io);
    double worst = 0;
    for (int64_t s = 0; s < 8; ++s)
      for (int64_t r = 0; r < v.height; ++r)
        for (int64_t q = 0; q < v.width; ++q)
          worst = std::max(worst, std::abs(static_cast<double>(a[(s * v.height + r) * v.width + q]) -
                                           b[(s * v.height + r) * v.width + v.width - 1 - q]));
    return worst;
  };
  EXPECT_LE(mirror_gap({true, false}), 1e-5);
  EXPECT_GT(mirror_gap({false, false}), 1e-3);
}

TEST_F(SegmentOptionsRuns, HalfResolutionIsCloseToFullResolution) {
  std::vector<LoadedModel> models;
  models.push_back(load_model(liver_, Device::cpu(), false));
  const SliceVolume v = read_slice_volume(volume_.string());
  const std::vector<float> full = ensemble_probability(models, v, 0, v.depth, Device::cpu());
  const std::vector<float> half = ensemble_probability(models, v, 0, v.depth, Device::cpu(), {false, true});
  ASSERT_EQ(full.size(), half.size());
  double diff = 0;
  for (size_t p = 0; p < full.size(); ++p) {
    ASSERT_TRUE(half[p] >= 0.0f && half[p] <= 1.0f) << p;
    diff += std::abs(full[p] - half[p]);
  }
  diff /= static_cast<double>(full.size());
  EXPECT_GT(diff, 0.0) << "half resolution must be a different computation";
  EXPECT_LT(diff, 0.2);
}

// Training records its volumes' in-plane spacing; a volume 3 times coarser gets a warning, and the mask
// is still written.
TEST_F(SegmentOptionsRuns, SpacingFarFromTrainingIsWarned) {
  const Json config = read_json_file((fs::path(liver_) / "config.json").string());
  const Json* t = config.find("training_spacing_mm");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->items.size(), 2u);
  EXPECT_GT(t->items[0].number, 0.5);
  EXPECT_LT(t->items[0].number, 1.01);  // phantoms: 0.6 .. 1.0 mm
  NiftiVolume v = read_nifti(volume_.string());
  NiftiGeometry g = make_nifti_geometry(v.geometry.dims, {3.0, 3.0, v.geometry.pixdim[2]});
  write_nifti_volume((dir_ / "coarse.nii.gz").string(), g, v.values, NiftiType::kInt16);
  const SegmentReport r = segment_liver(options({(dir_ / "coarse.nii.gz").string()}, "coarse_out"));
  ASSERT_TRUE(r.volumes[0].ok) << r.volumes[0].error;
  ASSERT_EQ(r.volumes[0].warnings.size(), 1u);
  expect_contains(r.volumes[0].warnings[0], {"3 x 3 mm", "1.5 times"});
  EXPECT_TRUE(segment_liver(options({volume_.string()}, "plain_out")).volumes[0].warnings.empty());
}

}  // namespace
}  // namespace lits::testing
