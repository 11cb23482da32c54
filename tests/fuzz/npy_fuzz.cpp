// libFuzzer target: the .npy readers on any bytes: read_npy, and MappedNpy with every byte of the
// mapped data read (a header that claimed more than the file holds would fault here).
#include "pipeline/io/npy.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lits::fuzz::input_file(data, size, "input.npy");
  lits::fuzz::refused_or_read([&] { lits::read_npy(path); });
  lits::fuzz::refused_or_read([&] {
    const lits::MappedNpy m(path);
    int64_t n = lits::npy_item_size(m.type());
    for (int64_t d : m.shape()) n *= d;
    const uint8_t* p = m.data();
    volatile uint8_t sum = 0;
    for (int64_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  });
  return 0;
}
