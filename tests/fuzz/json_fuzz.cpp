// libFuzzer target: the JSON the project reads back, on any text: the parser itself, a volume's
// volume.json, a store's index.json, and a checkpoint's training state.
#include <filesystem>

#include "pipeline/data/convert.h"
#include "pipeline/io/json.h"
#include "pipeline/train/checkpoint.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lits::fuzz::refused_or_read([&] { lits::parse_json(text, "input.json"); });
  lits::fuzz::refused_or_read([&] { lits::TrainState::from_json(text, "input.json"); });
  const std::string volume = lits::fuzz::input_file(data, size, "volume.json");
  lits::fuzz::refused_or_read([&] { lits::read_volume_json(volume); });
  lits::fuzz::input_file(data, size, "index.json");
  lits::fuzz::refused_or_read([&] { lits::read_store_index(lits::fuzz::input_folder()); });
  return 0;
}
