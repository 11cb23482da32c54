// safetensors headers that lie: every number of the JSON header is checked before it becomes a size (a
// shape whose byte count wraps to 0 matched its empty data range and reached the allocator).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "pipeline/io/safetensors.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

namespace lits::testing {
namespace {

class Safetensors : public TempDirTest {
 protected:
  // A file with the JSON header `header` and `data_bytes` zero bytes of data.
  std::string file(const std::string& name, const std::string& header, size_t data_bytes) const {
    std::string bytes;
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    bytes += header;
    bytes.append(data_bytes, '\0');
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

TEST_F(Safetensors, ARoundTripReads) {
  NamedTensors t{{"w", Tensor::full({2, 3}, 1.5, DType::kFloat32)}};
  write_safetensors(path("ok.safetensors"), t, {{"k", "v"}});
  std::map<std::string, std::string> meta;
  const NamedTensors back = read_safetensors(path("ok.safetensors"), &meta);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].second.shape(), Shape({2, 3}));
  EXPECT_EQ(meta["k"], "v");
}

TEST_F(Safetensors, LyingHeadersAreRefusedByName) {
  const auto refused = [&](const char* name, const std::string& header, size_t data,
                           std::initializer_list<const char*> parts) {
    expect_contains(error_of([&] { read_safetensors(file(name, header, data)); }), parts);
  };
  // 2^62 x 4 float32 items are 2^66 bytes: 0 in 64 bits, the size of the empty data range.
  refused("wrap", R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0,
          {"wrap", "tensor 'w'", "a dim", "whole number"});
  refused("negative", R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 16, {"negative", "a dim"});
  refused("fraction", R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,10]}})", 16, {"fraction", "a dim"});
  refused("text", R"({"w":{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}})", 16, {"text", "a dim"});
  refused("offset", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[1e300,16]}})", 16, {"offset", "a data offset"});
  refused("dims", R"({"w":{"dtype":"U8","shape":[1,1,1,1,1,1],"data_offsets":[0,1]}})", 16, {"dims", "at most 5"});
  refused("short", R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", 16,
          {"short", "data_offsets [0, 32]", "truncated?"});
}

}  // namespace
}  // namespace lits::testing
