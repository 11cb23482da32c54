// The phantom CT generator: determinism per seed, anatomy statistics a segmentation task needs (liver
// on a sub-range of slices and on the patient's right, hypodense lesions only inside it, bone, fat, air),
// spacing and orientation ranges, and the written LiTS-layout dataset read back value for value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/data/phantom.h"
#include "pipeline/io/nifti.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

PhantomOptions small_options(uint64_t seed = 1) {
  PhantomOptions o;
  o.size = 64;
  o.slices = 16;
  o.seed = seed;
  return o;
}

// Voxel (i, j, k) of a volume in NIfTI order.
int64_t at(const NiftiGeometry& g, int64_t i, int64_t j, int64_t k) { return (k * g.dims[1] + j) * g.dims[0] + i; }

TEST(Phantom, SameSeedSameVolumeOtherSeedOrIndexDiffers) {
  const Phantom a = make_phantom(small_options(7), 2, false);
  const Phantom b = make_phantom(small_options(7), 2, false);
  EXPECT_EQ(a.geometry, b.geometry);
  EXPECT_EQ(a.hu, b.hu);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.lesions, b.lesions);
  EXPECT_NE(make_phantom(small_options(8), 2, false).hu, a.hu);
  EXPECT_NE(make_phantom(small_options(7), 3, false).hu, a.hu);
  EXPECT_NE(make_phantom(small_options(7), 2, true).hu, a.hu);
}

// Statistics of the default 128 x 128 x 48 volume 0 (which always has lesions).
TEST(Phantom, AnatomyOfADefaultVolume) {
  const Phantom p = make_phantom(PhantomOptions{}, 0, false);
  const NiftiGeometry& g = p.geometry;
  ASSERT_EQ(g.dims, (std::array<int64_t, 3>{128, 128, 48}));
  ASSERT_EQ(p.hu.size(), static_cast<size_t>(g.voxel_count()));
  ASSERT_EQ(p.labels.size(), p.hu.size());
  EXPECT_GE(p.lesions, 1);

  int64_t liver = 0, lesion = 0, bone = 0, fat = 0;
  double liver_sum = 0.0, lesion_sum = 0.0;
  std::vector<bool> liver_slice(static_cast<size_t>(g.dims[2]), false);
  for (int64_t v = 0; v < g.voxel_count(); ++v) {
    const uint8_t l = p.labels[static_cast<size_t>(v)];
    const double hu = p.hu[static_cast<size_t>(v)];
    ASSERT_LE(l, 2);
    ASSERT_EQ(hu, std::round(hu));
    ASSERT_GE(hu, -1024.0);
    ASSERT_LE(hu, 3071.0);
    if (l == 1) ++liver, liver_sum += hu;
    if (l == 2) ++lesion, lesion_sum += hu;
    if (l >= 1) liver_slice[static_cast<size_t>(v / (g.dims[0] * g.dims[1]))] = true;
    if (hu > 300.0) ++bone;
    if (hu >= -150.0 && hu <= -50.0) ++fat;
  }
  const double fraction = static_cast<double>(liver + lesion) / static_cast<double>(g.voxel_count());
  EXPECT_GT(fraction, 0.01);
  EXPECT_LT(fraction, 0.25);
  EXPECT_GT(lesion, 0);
  EXPECT_GT(bone, 100);
  EXPECT_GT(fat, 1000);
  // Liver on a proper sub-range: liver-free slices at both ends, and the liver slices contiguous.
  const auto first = std::find(liver_slice.begin(), liver_slice.end(), true) - liver_slice.begin();
  const auto last = liver_slice.rend() - std::find(liver_slice.rbegin(), liver_slice.rend(), true) - 1;
  EXPECT_GT(first, 0);
  EXPECT_LT(last, g.dims[2] - 1);
  EXPECT_GT(last - first, g.dims[2] / 4);
  for (auto k = first; k <= last; ++k) EXPECT_TRUE(liver_slice[static_cast<size_t>(k)]) << "slice " << k;

  const double liver_mean = liver_sum / static_cast<double>(liver);
  const double lesion_mean = lesion_sum / static_cast<double>(lesion);
  EXPECT_GE(liver_mean, 47.0);
  EXPECT_LE(liver_mean, 73.0);
  // Contrast 10..40 HU; blur across lesion edges takes a little of it away.
  EXPECT_GE(liver_mean - lesion_mean, 6.0);
  EXPECT_LE(liver_mean - lesion_mean, 43.0);

  // Air at the corners of every slice, outside the body.
  double air_sum = 0.0;
  int64_t air = 0;
  for (int64_t k = 0; k < g.dims[2]; ++k) {
    for (int64_t j = 0; j < 4; ++j) {
      for (int64_t i = 0; i < 4; ++i) {
        air_sum += p.hu[static_cast<size_t>(at(g, i, j, k))];
        EXPECT_EQ(p.labels[static_cast<size_t>(at(g, i, j, k))], 0);
        ++air;
      }
    }
  }
  EXPECT_NEAR(air_sum / static_cast<double>(air), -1000.0, 8.0);
}

// Lesion voxels are inside the liver: every lesion voxel's neighbourhood within the slice is liver or
// lesion, never background, except where a lesion touches the liver's own edge.
TEST(Phantom, LesionsOnlyInsideTheLiver) {
  for (int64_t index : {0, 2, 3}) {
    const Phantom p = make_phantom(small_options(3), index, false);
    const NiftiGeometry& g = p.geometry;
    int64_t lesion = 0, touching = 0;
    for (int64_t k = 0; k < g.dims[2]; ++k) {
      for (int64_t j = 1; j + 1 < g.dims[1]; ++j) {
        for (int64_t i = 1; i + 1 < g.dims[0]; ++i) {
          if (p.labels[static_cast<size_t>(at(g, i, j, k))] != 2) continue;
          ++lesion;
          for (auto [di, dj] : {std::pair{-1, 0}, {1, 0}, {0, -1}, {0, 1}})
            if (p.labels[static_cast<size_t>(at(g, i + di, j + dj, k))] == 0) ++touching;
        }
      }
    }
    // Lesions are centred well inside the liver, so most of their border is liver.
    EXPECT_LE(touching, lesion / 4 + 4) << "volume " << index;
  }
}

// The liver lies on the patient's right in world coordinates, whichever way the first axis runs.
TEST(Phantom, LiverOnThePatientsRightInBothOrientations) {
  std::set<std::string> seen;
  for (int64_t index = 0; index < 4; ++index) {
    const Phantom p = make_phantom(small_options(5), index, false);
    const auto rows = p.geometry.affine();
    double x_sum = 0.0;
    int64_t n = 0;
    for (int64_t v = 0; v < p.geometry.voxel_count(); ++v) {
      if (p.labels[static_cast<size_t>(v)] == 0) continue;
      const int64_t i = v % p.geometry.dims[0];
      x_sum += rows[0][0] * static_cast<double>(i) + rows[0][3];
      ++n;
    }
    ASSERT_GT(n, 0);
    EXPECT_GT(x_sum / static_cast<double>(n), 0.0) << "volume " << index << " " << p.geometry.orientation();
    seen.insert(p.geometry.orientation());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"RAS", "LAS"}));
}

TEST(Phantom, SpacingOrientationAndLesionsVaryAcrossVolumes) {
  std::set<std::string> orientations;
  int with_lesions = 0, without = 0;
  for (int64_t index = 0; index < 10; ++index) {
    const Phantom p = make_phantom(small_options(11), index, false);
    const NiftiGeometry& g = p.geometry;
    EXPECT_GE(g.pixdim[0], 0.6);
    EXPECT_LE(g.pixdim[0], 1.0);
    EXPECT_EQ(g.pixdim[1], g.pixdim[0]);
    EXPECT_GE(g.pixdim[2], 1.0);
    EXPECT_LE(g.pixdim[2], 5.0);
    EXPECT_GT(g.qform_code, 0);
    EXPECT_GT(g.sform_code, 0);
    // The qform alone says the same as the sform.
    NiftiGeometry q = g;
    q.sform_code = 0;
    EXPECT_EQ(q.orientation(), g.orientation());
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) EXPECT_NEAR(q.affine()[r][c], g.affine()[r][c], 1e-6) << r << "," << c;
    }
    orientations.insert(g.orientation());
    const bool has_lesion_voxels = std::find(p.labels.begin(), p.labels.end(), 2) != p.labels.end();
    EXPECT_EQ(has_lesion_voxels, p.lesions > 0) << "volume " << index;
    EXPECT_LE(p.lesions, 6);
    (p.lesions > 0 ? with_lesions : without)++;
    if (index == 0) {
      EXPECT_GT(p.lesions, 0);
    }
    if (index == 1) {
      EXPECT_EQ(p.lesions, 0);
    }
  }
  EXPECT_EQ(orientations, (std::set<std::string>{"RAS", "LAS"}));
  EXPECT_GE(with_lesions, 1);
  EXPECT_GE(without, 1);
}

// Each test works in a fresh folder of its own, removed afterwards.
class SynthDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lits_phantom_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  SynthOptions options(int train, int test) const {
    SynthOptions o;
    o.out = dir_.string();
    o.train = train;
    o.test = test;
    o.phantom = small_options(4);
    return o;
  }

  std::vector<std::string> files_in(const std::string& folder) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / folder)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(SynthDataset, WritesTheLitsLayoutAndReadsBackExactly) {
  std::vector<SynthVolumeInfo> reported;
  write_synth_dataset(options(3, 2), [&](const SynthVolumeInfo& info) { reported.push_back(info); });
  EXPECT_EQ(files_in("Training_Data"),
            (std::vector<std::string>{"segmentation-0.nii.gz", "segmentation-1.nii.gz", "segmentation-2.nii.gz",
                                      "volume-0.nii.gz", "volume-1.nii.gz", "volume-2.nii.gz"}));
  EXPECT_EQ(files_in("Test_Data"), (std::vector<std::string>{"test-volume-0.nii.gz", "test-volume-1.nii.gz"}));
  EXPECT_EQ(files_in("Test_Truth"),
            (std::vector<std::string>{"test-segmentation-0.nii.gz", "test-segmentation-1.nii.gz"}));
  ASSERT_EQ(reported.size(), 5u);
  for (const SynthVolumeInfo& info : reported) {
    SCOPED_TRACE(info.image);
    const Phantom p = make_phantom(small_options(4), info.index, info.test_set);
    const NiftiVolume image = read_nifti(info.image);
    EXPECT_EQ(image.datatype, NiftiType::kInt16);
    EXPECT_EQ(image.geometry, p.geometry);
    EXPECT_EQ(image.values, p.hu);
    EXPECT_EQ(read_nifti_geometry(info.labels), p.geometry);
    const std::vector<uint8_t> labels = read_nifti_labels(info.labels);
    EXPECT_EQ(labels, p.labels);
    for (uint8_t l : labels) ASSERT_LE(l, 2);
    EXPECT_EQ(info.orientation, p.geometry.orientation());
    EXPECT_EQ(info.lesions, p.lesions);
    EXPECT_GT(info.bytes, 0);
  }
  EXPECT_TRUE(reported[3].test_set);
  EXPECT_EQ(reported[3].image, (dir_ / "Test_Data" / "test-volume-0.nii.gz").string());
  EXPECT_EQ(reported[3].labels, (dir_ / "Test_Truth" / "test-segmentation-0.nii.gz").string());
}

TEST_F(SynthDataset, RewritingReplacesAnEarlierDatasetAndRemovesItsExtraVolumes) {
  write_synth_dataset(options(3, 2));
  write_synth_dataset(options(1, 0));
  EXPECT_EQ(files_in("Training_Data"), (std::vector<std::string>{"segmentation-0.nii.gz", "volume-0.nii.gz"}));
  EXPECT_TRUE(files_in("Test_Data").empty());
  EXPECT_TRUE(files_in("Test_Truth").empty());
}

TEST_F(SynthDataset, RefusesAFolderHoldingOtherFiles) {
  fs::create_directories(dir_ / "Training_Data");
  std::ofstream(dir_ / "notes.txt") << "mine";
  expect_contains(error_of([&] { write_synth_dataset(options(1, 0)); }), {"notes.txt", "not part of a synthetic"});
  EXPECT_TRUE(files_in("Training_Data").empty());
  fs::remove(dir_ / "notes.txt");
  std::ofstream(dir_ / "Training_Data" / "volume-x.nii") << "mine";
  expect_contains(error_of([&] { write_synth_dataset(options(1, 0)); }), {"volume-x.nii"});
  EXPECT_EQ(files_in("Training_Data"), std::vector<std::string>{"volume-x.nii"});
}

TEST_F(SynthDataset, RefusesBadCounts) {
  expect_contains(error_of([&] { write_synth_dataset(options(0, 1)); }), {"0 training"});
  expect_contains(error_of([&] { write_synth_dataset(options(1, -1)); }), {"-1 test"});
  EXPECT_FALSE(fs::exists(dir_));
}

}  // namespace
}  // namespace lits::testing
