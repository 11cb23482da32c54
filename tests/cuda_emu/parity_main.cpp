// The parity suite's main: after the tests, every __global__ kernel written in kernels/*.cu must
// have run on the emulated device, or the run fails naming the kernels without a case.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cuda_emu/control.h"

namespace {

// The name after `__global__ void` at `at`, or "" where the text is something else.
std::string kernel_name_at(const std::string& s, size_t at) {
  std::istringstream in(s.substr(at, 256));
  std::string global, type, name;
  in >> global >> type >> name;
  if (type != "void") return "";
  name = name.substr(0, name.find('('));
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return "";
  return name;
}

// (file name, kernel name) of every __global__ function in kernels/*.cu.
std::set<std::pair<std::string, std::string>> kernels_in_source() {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(LITS_SOURCE_DIR) / "kernels")) {
    if (e.path().extension() != ".cu") continue;
    std::ifstream f(e.path());
    std::stringstream text;
    text << f.rdbuf();
    const std::string s = text.str();
    for (size_t at = s.find("__global__"); at != std::string::npos; at = s.find("__global__", at + 1)) {
      const std::string name = kernel_name_at(s, at);
      EXPECT_FALSE(name.empty()) << e.path() << ": a __global__ this count cannot read: " << s.substr(at, 60);
      out.insert({e.path().filename().string(), name});
    }
  }
  return out;
}

class KernelCount : public ::testing::Environment {
 public:
  void TearDown() override {
    if (::testing::GTEST_FLAG(filter) != "*") {
      std::printf("cuda-emu: a filtered run, the kernel count is not checked\n");
      return;
    }
    std::set<std::pair<std::string, std::string>> ran;
    int64_t launches = 0, blocks = 0;
    for (const lits_emu::KernelRun& r : lits_emu::kernel_runs()) {
      ran.insert({std::filesystem::path(r.file).filename().string(), r.kernel});
      launches += r.launches;
      blocks += r.blocks;
    }
    const auto source = kernels_in_source();
    std::string missing;
    int covered = 0;
    for (const auto& k : source) {
      if (ran.count(k))
        ++covered;
      else
        missing += " " + k.first + ":" + k.second;
    }
    std::printf(
        "cuda-emu: %d of %zu __global__ kernels in kernels/*.cu ran on the emulated device (%s): %lld launches, "
        "%lld blocks\n",
        covered, source.size(), lits_emu::settings_text().c_str(), static_cast<long long>(launches),
        static_cast<long long>(blocks));
    EXPECT_FALSE(source.empty()) << "no __global__ kernel found under " << LITS_SOURCE_DIR << "/kernels";
    EXPECT_TRUE(missing.empty()) << "kernels with no emulated parity case:" << missing;
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new KernelCount);
  return RUN_ALL_TESTS();
}
