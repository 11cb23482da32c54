// A small phantom slice store for dataset and loader tests: `lits synth` volumes converted by `lits convert`
// into a folder of the test's own, removed when the fixture ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"
#include "pipeline/io/nifti.h"

namespace lits::testing {

class PhantomStore : public ::testing::Test {
 protected:
  // `volumes` training volumes of size x size pixels and `slices` slices, converted with 2D weightmaps;
  // with `crop_h` x `crop_w` > 0, every volume is cut to its first crop_h x crop_w voxels in-plane before
  // conversion (slices of sizes the generator does not make, e.g. 122 x 101).
  void make_store(int volumes = 4, int64_t size = 64, int64_t slices = 16, int64_t crop_h = 0, int64_t crop_w = 0) {
    dir_ = std::filesystem::temp_directory_path() / ("lits_store_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    SynthOptions s;
    s.out = (dir_ / "lits").string();
    s.train = volumes;
    s.test = 0;
    s.phantom.size = size;
    s.phantom.slices = slices;
    write_synth_dataset(s);
    if (crop_h > 0)
      for (const auto& e : std::filesystem::directory_iterator(dir_ / "lits" / "Training_Data"))
        crop(e.path(), crop_h, crop_w);
    ConvertOptions c;
    c.in = (dir_ / "lits" / "Training_Data").string();
    c.out = store_dir();
    c.weightmaps = WeightmapMode::k2d;
    c.threads = 2;
    const ConvertReport r = convert_dataset(c);
    ASSERT_TRUE(r.failures.empty());
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // Keeps voxels i < h, j < w of every slice; the affine is unchanged (voxel (0, 0, 0) stays where it was).
  static void crop(const std::filesystem::path& file, int64_t h, int64_t w) {
    const NiftiVolume v = read_nifti(file.string());
    NiftiGeometry g = v.geometry;
    ASSERT_TRUE(h <= g.dims[0] && w <= g.dims[1]) << file;
    std::vector<float> out;
    out.reserve(static_cast<size_t>(h * w * g.dims[2]));
    for (int64_t k = 0; k < g.dims[2]; ++k)
      for (int64_t j = 0; j < w; ++j)
        for (int64_t i = 0; i < h; ++i)
          out.push_back(v.values[static_cast<size_t>((k * g.dims[1] + j) * g.dims[0] + i)]);
    g.dims = {h, w, g.dims[2]};
    write_nifti_volume(file.string(), g, out, v.datatype);
  }
  std::string store_dir() const { return (dir_ / "store").string(); }

  std::filesystem::path dir_;
};

}  // namespace lits::testing
