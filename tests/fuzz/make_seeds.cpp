// lits_fuzz_seeds DIR: the fuzzers' seed corpus, written by the project's own writers and the bad-input
// corpus of the tests (tests/support/bad_inputs.h), so each target starts from files that reach deep into
// its reader instead of from nothing:
//   DIR/nifti        the good NIfTI-1/2 volumes and every bad NIfTI case, each behind the mode byte that
//                    nifti_fuzz.cpp reads (.nii; .nii.gz compressed by the target; .nii.gz as it is)
//   DIR/setup        the presets and every bad setup file
//   DIR/npy          arrays of each dtype written by write_npy
//   DIR/safetensors  a checkpoint-shaped file written by write_safetensors
//   DIR/json         a converted volume's volume.json and index.json, and a training state
// Usage: lits_fuzz_seeds DIR (the folder is created; files in it are replaced).
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "pipeline/data/convert.h"
#include "pipeline/io/npy.h"
#include "pipeline/io/safetensors.h"
#include "pipeline/train/checkpoint.h"
#include "tests/support/bad_inputs.h"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int nifti_seeds(const fs::path& dir) {
  int n = 0;
  const auto put = [&](const std::string& name, char mode, const std::string& bytes) {
    write(dir / (name + "-" + std::to_string(mode)), std::string(1, mode) + bytes);
    ++n;
  };
  for (const char mode : {0, 1, 3}) {
    put("good1", mode, lits::testing::good_nifti1());
    put("good2", mode, lits::testing::good_nifti2());
  }
  for (const auto& c : lits::testing::bad_nifti_inputs()) {
    if (c.make != lits::testing::BadInput::Make::kFile && c.make != lits::testing::BadInput::Make::kRaw) continue;
    const bool gz = c.name.size() > 3 && c.name.compare(c.name.size() - 3, 3, ".gz") == 0;
    // A .gz case's bytes are the uncompressed file (mode 1: the target compresses them), a raw one's the
    // file as it is (mode 3).
    put(c.name, gz ? (c.make == lits::testing::BadInput::Make::kRaw ? 3 : 1) : 0, c.bytes);
  }
  return n;
}

int setup_seeds(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(LITS_FUZZ_PRESETS)) {
    write(dir / e.path().filename(), read(e.path()));
    ++n;
  }
  for (const auto& c : lits::testing::bad_setup_inputs()) {
    if (c.make != lits::testing::BadInput::Make::kFile) continue;
    write(dir / c.name, c.bytes);
    ++n;
  }
  return n;
}

int npy_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const std::vector<uint8_t> bytes(2 * 3 * 4 * 4, 7);
  write_npy((dir / "u1.npy").string(), lits::NpyType::kUInt8, {2, 3, 4}, bytes.data());
  write_npy((dir / "i2.npy").string(), lits::NpyType::kInt16, {2, 3, 4}, bytes.data());
  write_npy((dir / "f2.npy").string(), lits::NpyType::kFloat16, {3, 4}, bytes.data());
  write_npy((dir / "f4.npy").string(), lits::NpyType::kFloat32, {24}, bytes.data());
  write_npy((dir / "f8.npy").string(), lits::NpyType::kFloat64, {12}, bytes.data());
  write_npy((dir / "scalar.npy").string(), lits::NpyType::kFloat32, {}, bytes.data());
  return 6;
}

int safetensors_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const lits::NamedTensors tensors = {{"model.conv.weight", lits::Tensor::full({2, 1, 3, 3}, 0.5)},
                                      {"model.norm.running_mean", lits::Tensor::zeros({2}, lits::DType::kFloat64)},
                                      {"adam.step", lits::Tensor::from_ints({3}, {1})},
                                      {"adam.mask", lits::Tensor::from_ints({1, 0, 1, 1}, {4}, lits::DType::kUInt8)}};
  write_safetensors((dir / "checkpoint.safetensors").string(), tensors,
                    {{"format", "lits checkpoint"}, {"lits_state", lits::TrainState{}.to_json()}});
  write_safetensors((dir / "plain.safetensors").string(), tensors);
  return 2;
}

int json_seeds(const fs::path& dir) {
  const fs::path work = dir / ".convert";
  fs::remove_all(work);
  write(work / "in" / "volume-0.nii", lits::testing::good_nifti1());
  write(work / "in" / "segmentation-0.nii", lits::testing::good_nifti1());
  lits::ConvertOptions options;
  options.in = (work / "in").string();
  options.out = (work / "store").string();
  options.threads = 1;
  const lits::ConvertReport report = lits::convert_dataset(options);
  if (report.converted.size() != 1) throw std::runtime_error("the seed volume did not convert");
  write(dir / "volume.json", read(work / "store" / "volume-0" / "volume.json"));
  write(dir / "index.json", read(work / "store" / "index.json"));
  lits::TrainState state;
  state.epoch = 3;
  state.step = 120;
  state.best_val_dice = 0.9;
  state.best_epoch = 2;
  state.chunk_dices = {0.5, 0.25};
  write(dir / "state.json", state.to_json());
  fs::remove_all(work);
  return 4;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR   (writes the fuzzers' seed corpus into DIR/<target>)\n", argv[0]);
    return 2;
  }
  try {
    const fs::path dir = argv[1];
    std::printf("seeds: nifti %d, setup %d, npy %d, safetensors %d, json %d in %s\n", nifti_seeds(dir / "nifti"),
                setup_seeds(dir / "setup"), npy_seeds(dir / "npy"), safetensors_seeds(dir / "safetensors"),
                json_seeds(dir / "json"), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lits_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
