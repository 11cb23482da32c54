// libFuzzer target: safetensors files on any bytes, through the reader and the checkpoint loader (its
// lits_state metadata is the training state's JSON).
#include "pipeline/io/safetensors.h"
#include "pipeline/train/checkpoint.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lits::fuzz::input_file(data, size, "input.safetensors");
  lits::fuzz::refused_or_read([&] {
    std::map<std::string, std::string> meta;
    lits::read_safetensors(path, &meta);
  });
  lits::fuzz::refused_or_read([&] { lits::load_checkpoint(path.substr(0, path.size() - 12)); });
  return 0;
}
