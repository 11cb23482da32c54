// A small phantom slice store for dataset and loader tests: `lits synth` volumes converted by `lits convert`
// into a folder of the test's own, removed when the fixture ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pipeline/data/convert.h"
#include "pipeline/data/phantom.h"

namespace lits::testing {

class PhantomStore : public ::testing::Test {
 protected:
  // `volumes` training volumes of size x size pixels and `slices` slices, converted with 2D weightmaps.
  void make_store(int volumes = 4, int64_t size = 64, int64_t slices = 16) {
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
  std::string store_dir() const { return (dir_ / "store").string(); }

  std::filesystem::path dir_;
};

}  // namespace lits::testing
