// Inference: the liver post-processing on hand-made masks (largest component, the closing's asymmetric growth,
// first and last slices kept), the ensemble as the mean of its members' probabilities, and `segment` /
// `submit` on phantom volumes: outputs with the input's exact geometry for RAS and LAS, .nii and .nii.gz,
// labels 0/1/2 with lesions only inside the liver, and bad volumes and model folders named.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"
#include "pipeline/infer/case_files.h"
#include "pipeline/infer/inference.h"
#include "pipeline/infer/postprocess.h"
#include "pipeline/infer/segment.h"
#include "pipeline/io/nifti.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

TEST(Postprocess, KeepsTheLargestSixConnectedComponent) {
  const VolumeDims d{2, 4, 4};
  std::vector<uint8_t> m(32, 0);
  auto at = [&](int64_t k, int64_t i, int64_t j) -> uint8_t& { return m[static_cast<size_t>((k * 4 + i) * 4 + j)]; };
  at(0, 0, 0) = at(0, 0, 1) = at(1, 0, 1) = 1;  // 3 voxels, face-connected across slices
  at(0, 2, 2) = at(1, 3, 3) = 1;                // diagonal only: two components of 1
  at(0, 3, 0) = at(0, 3, 1) = 1;                // 2 voxels
  const std::vector<uint8_t> l = largest_component(m, d);
  EXPECT_EQ(std::count(l.begin(), l.end(), uint8_t{1}), 3);
  EXPECT_EQ(l[1], 1);
  EXPECT_EQ(l[16 + 1], 1);
  const std::vector<uint8_t> none = largest_component(std::vector<uint8_t>(32, 0), d);
  EXPECT_EQ(std::count(none.begin(), none.end(), uint8_t{1}), 0);
}

TEST(Postprocess, ClosingGrowsAsTheReferenceAndKeepsTheEndSlices) {
  // One box over every slice: rows 5..8, columns 6..9, in 5 slices of 16 x 16, with slice 2 missing.
  const VolumeDims d{5, 16, 16};
  std::vector<uint8_t> m(static_cast<size_t>(5 * 256), 0);
  for (int64_t k = 0; k < 5; ++k)
    for (int64_t i = 5; i <= 8; ++i)
      for (int64_t j = 6; j <= 9; ++j)
        if (k != 2) m[static_cast<size_t>((k * 16 + i) * 16 + j)] = 1;
  // The gap splits the box into two components of 2 slices: the first (slices 0-1) is kept...
  const std::vector<uint8_t> p = postprocess_liver(m, d);
  auto on = [&](int64_t k, int64_t i, int64_t j) { return p[static_cast<size_t>((k * 16 + i) * 16 + j)] != 0; };
  // ...grown by 1 toward lower and 2 toward higher rows and columns: rows 4..10, columns 5..11.
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 16; ++j) EXPECT_EQ(on(0, i, j), i >= 4 && i <= 10 && j >= 5 && j <= 11) << i << "," << j;
  EXPECT_TRUE(on(1, 4, 5));
  EXPECT_TRUE(on(0, 7, 7));  // the first slice is not emptied (the reference's zero border emptied it)
  // Slices 2 and 3 come from the dilation along k and survive the erosion only where all three slices agree.
  EXPECT_FALSE(on(3, 7, 7));
  // With the gap filled the box is one component over 5 slices and the last slice stays too.
  for (int64_t i = 5; i <= 8; ++i)
    for (int64_t j = 6; j <= 9; ++j) m[static_cast<size_t>((2 * 16 + i) * 16 + j)] = 1;
  const std::vector<uint8_t> q = postprocess_liver(m, d);
  EXPECT_TRUE(q[static_cast<size_t>((4 * 16 + 7) * 16 + 7)]);
  EXPECT_EQ(slice_range(q, d), (std::pair<int64_t, int64_t>{0, 4}));
  EXPECT_EQ(slice_range(std::vector<uint8_t>(m.size(), 0), d), (std::pair<int64_t, int64_t>{0, -1}));
}

TEST(Segment, FileNumbers) {
  EXPECT_EQ(file_number("test-volume-12.nii.gz"), 12);
  EXPECT_EQ(file_number("volume-0.nii"), 0);
  EXPECT_EQ(file_number("test-segmentation-7.nii"), 7);
  EXPECT_EQ(file_number("volume.nii"), -1);
}

// A liver and a lesion run of the tiny setup, and test volumes: 0 and 1 (.nii.gz, one RAS, one LAS) and their
// .nii copies 2 and 3.
class SegmentRuns : public PhantomStore {
 protected:
  void SetUp() override {
    make_store();
    TrainOptions o = tiny_options(store_dir(), dir_ / "runs", 1);
    liver_ = train_run(tiny_setup(), o).run_dir;
    lits::Setup lesion = tiny_setup();
    lesion.set("Training", "data", Value::string("lesion"));
    lesion.set("Training", "loss_func", Value::string("multiclass_combined"));
    lesion.set("Training", "savename", Value::string("tiny_lesion"));
    o.init = liver_;
    lesion_ = train_run(lesion, o).run_dir;
    SynthOptions s;
    s.out = (dir_ / "test").string();
    s.train = 1;  // synth needs one; unused
    s.test = 2;
    s.phantom.size = 64;
    s.phantom.slices = 16;
    s.phantom.seed = 9;
    write_synth_dataset(s);
    volumes_ = (dir_ / "test" / "Test_Data").string();
    for (int n : {0, 1}) {
      const NiftiVolume v =
          read_nifti((fs::path(volumes_) / ("test-volume-" + std::to_string(n) + ".nii.gz")).string());
      write_nifti_volume((fs::path(volumes_) / ("test-volume-" + std::to_string(n + 2) + ".nii")).string(), v.geometry,
                         v.values, NiftiType::kInt16);
    }
  }
  SegmentOptions options(const std::string& out) const {
    SegmentOptions o;
    o.inputs = {volumes_};
    o.out = (dir_ / out).string();
    o.device = "cpu";
    o.batch = 3;
    return o;
  }
  std::string liver_, lesion_, volumes_;
};

TEST_F(SegmentRuns, OutputsKeepTheInputGeometryAndLabelsNestInTheLiver) {
  SegmentOptions seg = options("liver");
  seg.models = {liver_};
  const SegmentReport r = segment_liver(seg);
  ASSERT_EQ(r.volumes.size(), 4u);
  EXPECT_EQ(r.failures, 0);
  std::set<std::string> orientations;
  for (const VolumeOutcome& v : r.volumes) {
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_EQ(fs::path(v.output).filename(), fs::path(v.input).filename());  // named as its volume
    EXPECT_EQ(read_nifti_geometry(v.output), read_nifti_geometry(v.input)) << v.output;
    orientations.insert(read_nifti_geometry(v.input).orientation());
    for (uint8_t x : read_nifti_labels(v.output)) ASSERT_LE(x, 1);
  }
  EXPECT_EQ(orientations, (std::set<std::string>{"LAS", "RAS"}));
  // The .nii copies give the same masks as their .nii.gz originals.
  EXPECT_EQ(read_nifti_labels(r.volumes[0].output), read_nifti_labels(r.volumes[2].output));

  SegmentOptions sub = options("submission");
  sub.models = {lesion_};
  sub.liver = seg.out;
  const SegmentReport s = submit_lesions(sub);
  ASSERT_EQ(s.volumes.size(), 4u);
  for (size_t n = 0; n < 4; ++n) {
    const VolumeOutcome& v = s.volumes[n];
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_EQ(fs::path(v.output).filename(), "test-segmentation-" + std::to_string(n) + ".nii");
    EXPECT_EQ(read_nifti_geometry(v.output), read_nifti_geometry(v.input));
    const std::vector<uint8_t> labels = read_nifti_labels(v.output);
    const std::vector<uint8_t> liver = read_nifti_labels(r.volumes[n].output);
    for (size_t p = 0; p < labels.size(); ++p) {
      ASSERT_LE(labels[p], 2);
      ASSERT_EQ(labels[p] >= 1, liver[p] == 1) << "voxel " << p << ": liver label must be the liver mask's";
    }
    // Lesions are searched over the liver's whole slice range, its last slice included.
    EXPECT_EQ(v.segmented_slices, v.z1 - v.z0 + 1);
  }
}

// Segmentation on the CPU takes the fused path (models/unet_fused.h); with trained weights it gives
// the op-by-op path's probabilities, and LITS_FUSED=0 turns it off.
TEST_F(SegmentRuns, FusedAndOpByOpInferenceAgree) {
  std::vector<LoadedModel> fused, plain;
  fused.push_back(load_model(liver_, Device::cpu(), false));
  plain.push_back(load_model(liver_, Device::cpu(), false));
  if (!fused[0].fused) GTEST_SKIP() << "no fused path: " << FusedUNet::unsupported(*fused[0].net);
  plain[0].fused.reset();
  const SliceVolume v = read_slice_volume((fs::path(volumes_) / "test-volume-0.nii.gz").string());
  const std::vector<float> pf = ensemble_probability(fused, v, 0, v.depth, Device::cpu());
  const std::vector<float> pp = ensemble_probability(plain, v, 0, v.depth, Device::cpu());
  ASSERT_EQ(pf.size(), pp.size());
  double worst = 0;
  for (size_t p = 0; p < pf.size(); ++p) worst = std::max(worst, static_cast<double>(std::abs(pf[p] - pp[p])));
  EXPECT_LE(worst, 1e-4);
  EXPECT_GT(std::count_if(pf.begin(), pf.end(), [](float p) { return p > 0.5f; }), 0) << "a trivial output";
  ASSERT_EQ(setenv("LITS_FUSED", "0", 1), 0);
  EXPECT_FALSE(load_model(liver_, Device::cpu(), false).fused);
  unsetenv("LITS_FUSED");
  EXPECT_TRUE(load_model(liver_, Device::cpu(), false).fused);
  EXPECT_FALSE(load_model(liver_, Device::cpu(), true).fused) << "--bn-batch-stats runs op by op";
}

TEST_F(SegmentRuns, TheEnsembleIsTheMeanOfItsMembers) {
  std::vector<LoadedModel> a, b, ab;
  a.push_back(load_model(liver_, Device::cpu(), false));
  b.push_back(load_model(lesion_, Device::cpu(), false));
  ab.push_back(load_model(liver_, Device::cpu(), false));
  ab.push_back(load_model(lesion_, Device::cpu(), false));
  const SliceVolume v = read_slice_volume((fs::path(volumes_) / "test-volume-0.nii.gz").string());
  const std::vector<float> pa = ensemble_probability(a, v, 5, 4, Device::cpu());
  const std::vector<float> pb = ensemble_probability(b, v, 5, 4, Device::cpu());
  const std::vector<float> pab = ensemble_probability(ab, v, 5, 4, Device::cpu());
  ASSERT_EQ(pab.size(), static_cast<size_t>(4 * 64 * 64));
  int64_t differ = 0;
  for (size_t p = 0; p < pab.size(); ++p) {
    ASSERT_NEAR(pab[p], (pa[p] + pb[p]) / 2, 1e-6);
    differ += (pa[p] > 0.5f) != (pb[p] > 0.5f);
  }
  EXPECT_GT(differ, 0);  // the two members disagree somewhere, so the mean matters
  const std::vector<uint8_t> mask = segment_slices(ab, v, 5, 8, 2, Device::cpu());
  for (size_t p = 0; p < pab.size(); ++p) ASSERT_EQ(mask[5 * 4096 + p], pab[p] > 0.5f);
  EXPECT_EQ(std::count(mask.begin(), mask.begin() + 5 * 4096, uint8_t{1}), 0);  // outside z0 .. z1
  // Batch size changes nothing; train-mode BatchNorm (--bn-batch-stats) is a different computation.
  EXPECT_EQ(segment_slices(ab, v, 5, 8, 4, Device::cpu()), mask);
  EXPECT_FALSE(a[0].net->is_training());
  EXPECT_TRUE(load_model(liver_, Device::cpu(), true).net->is_training());
}

TEST_F(SegmentRuns, BadVolumesAreSkippedAndBadModelsNamed) {
  std::ofstream(fs::path(volumes_) / "test-volume-9.nii.gz") << "not a nifti file";
  SegmentOptions seg = options("liver");
  seg.models = {liver_};
  const SegmentReport r = segment_liver(seg);
  ASSERT_EQ(r.volumes.size(), 5u);
  EXPECT_EQ(r.failures, 1);
  EXPECT_FALSE(r.volumes[4].ok);
  expect_contains(r.volumes[4].error, {"test-volume-9.nii.gz"});
  EXPECT_TRUE(r.volumes[0].ok && r.volumes[3].ok);
  seg.models = {(dir_ / "store").string()};
  expect_contains(error_of([&] { segment_liver(seg); }), {"store", "not a lits run folder"});
  seg.models = {(dir_ / "nowhere").string()};
  expect_contains(error_of([&] { segment_liver(seg); }), {"nowhere", "not a folder"});
  SegmentOptions sub = options("submission");
  sub.models = {lesion_};
  sub.liver = (dir_ / "empty").string();
  fs::create_directories(sub.liver);
  const SegmentReport s = submit_lesions(sub);
  EXPECT_EQ(s.failures, 5);
  expect_contains(s.volumes[0].error, {"test-volume-0.nii.gz", "no liver mask of this case", "empty"});
}

// A symbolic link loop named like a volume ended `lits segment` with an uncaught filesystem error; now it
// is one failed volume, named, and the others are segmented.
TEST_F(SegmentRuns, SymbolicLinksNamedLikeVolumesAreFailedVolumes) {
  fs::create_symlink("test-volume-7.nii", fs::path(volumes_) / "test-volume-7.nii");
  fs::create_symlink("nowhere.nii", fs::path(volumes_) / "test-volume-8.nii");
  SegmentOptions seg = options("liver");
  seg.models = {liver_};
  const SegmentReport r = segment_liver(seg);
  ASSERT_EQ(r.volumes.size(), 6u);
  EXPECT_EQ(r.failures, 2);
  expect_contains(r.volumes[4].error, {"test-volume-7.nii", "symbolic link"});
  expect_contains(r.volumes[5].error, {"test-volume-8.nii", "symbolic link"});
  EXPECT_TRUE(r.volumes[0].ok && r.volumes[3].ok);
}

// `lits segment -i FILE -o DIR`: any NIfTI name (here in capitals) is an input, its mask takes its name, and
// an output folder that holds the input is refused before anything runs.
TEST_F(SegmentRuns, AnyNiftiFileIsAnInputAndItsMaskTakesItsName) {
  SegmentOptions lits_named = options("liver");
  lits_named.models = {liver_};
  const SegmentReport reference = segment_liver(lits_named);
  ASSERT_EQ(reference.failures, 0);
  fs::create_directories(dir_ / "in");
  const fs::path input = dir_ / "in" / "patient_A.NII.GZ";
  fs::copy_file(fs::path(volumes_) / "test-volume-1.nii.gz", input);
  SegmentOptions seg = options("out");
  seg.inputs = {input.string()};
  seg.models = {liver_};
  const SegmentReport r = segment_liver(seg);
  ASSERT_EQ(r.volumes.size(), 1u);
  ASSERT_TRUE(r.volumes[0].ok) << r.volumes[0].error;
  EXPECT_EQ(r.volumes[0].output, (dir_ / "out" / "patient_A.NII.GZ").string());
  EXPECT_EQ(read_nifti_geometry(r.volumes[0].output), read_nifti_geometry(input.string()));
  EXPECT_EQ(read_nifti_labels(r.volumes[0].output), read_nifti_labels(reference.volumes[1].output));
  seg.out = (dir_ / "in").string();
  expect_contains(error_of([&] { segment_liver(seg); }), {"patient_A.NII.GZ", "would overwrite"});
  EXPECT_TRUE(fs::exists(input));
}

}  // namespace
}  // namespace lits::testing
