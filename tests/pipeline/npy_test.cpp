// .npy files: the exact header NumPy writes (checked byte for byte), round trips of every dtype
// the slice store uses, atomic writes, and bad files named with the reason.
#include "pipeline/io/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class Npy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("lits_npy_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                     "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string file_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(Npy, HeaderIsWhatNumpyWrites) {
  const int16_t v[6] = {1, -2, 3, -4, 5, -32768};
  write_npy(path("a.npy"), NpyType::kInt16, {2, 3}, v);
  const std::string b = file_bytes(path("a.npy"));
  // numpy.save of np.int16 shape (2, 3): magic, version 1.0, header length 118, dict padded to 128.
  const std::string expect_header = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }";
  ASSERT_EQ(b.size(), 128u + 12u);
  EXPECT_EQ(b.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(b[6], 1);
  EXPECT_EQ(b[7], 0);
  EXPECT_EQ(static_cast<unsigned char>(b[8]) | static_cast<unsigned char>(b[9]) << 8, 118);
  EXPECT_EQ(b.substr(10, expect_header.size()), expect_header);
  EXPECT_EQ(b[127], '\n');
  EXPECT_EQ(std::memcmp(b.data() + 128, v, sizeof v), 0);
  // One-dimensional shapes keep Python's trailing comma.
  const uint8_t m[3] = {0, 1, 2};
  write_npy(path("m.npy"), NpyType::kUInt8, {3}, m);
  EXPECT_NE(file_bytes(path("m.npy")).find("'shape': (3,), }"), std::string::npos);
}

TEST_F(Npy, EveryStoreDtypeRoundTrips) {
  const uint8_t u8[4] = {0, 1, 2, 255};
  const int16_t i16[4] = {-1024, 0, 3071, 7};
  const uint16_t f16[4] = {0x3c00, 0x36ee, 0x0000, 0xbc00};  // float16 bit patterns
  const float f32[4] = {0.5f, -2.25f, 1e-7f, 3e38f};
  const double f64[4] = {0.1, -2.5e-300, 1e300, -0.0};
  struct Case {
    NpyType type;
    const void* data;
  };
  for (const Case& c : {Case{NpyType::kUInt8, u8}, Case{NpyType::kInt16, i16}, Case{NpyType::kFloat16, f16},
                        Case{NpyType::kFloat32, f32}, Case{NpyType::kFloat64, f64}}) {
    write_npy(path("x.npy"), c.type, {1, 2, 2}, c.data);
    const NpyArray a = read_npy(path("x.npy"));
    EXPECT_EQ(a.type, c.type);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2, 2}));
    ASSERT_EQ(a.bytes.size(), static_cast<size_t>(4 * npy_item_size(c.type)));
    EXPECT_EQ(std::memcmp(a.bytes.data(), c.data, a.bytes.size()), 0) << npy_descr(c.type);
  }
  write_npy(path("empty.npy"), NpyType::kInt16, {0, 512, 512}, nullptr);
  EXPECT_EQ(read_npy(path("empty.npy")).shape, (std::vector<int64_t>{0, 512, 512}));
}

TEST_F(Npy, WritesReplaceAtomicallyAndLeaveNoTemporaries) {
  const uint8_t a[2] = {1, 2}, b[3] = {3, 4, 5};
  write_npy(path("x.npy"), NpyType::kUInt8, {2}, a);
  write_npy(path("x.npy"), NpyType::kUInt8, {3}, b);
  EXPECT_EQ(read_npy(path("x.npy")).shape, (std::vector<int64_t>{3}));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  expect_contains(error_of([&] { write_npy(path("missing/x.npy"), NpyType::kUInt8, {2}, a); }),
                  {"write_npy", "missing/x.npy", "cannot create"});
}

TEST_F(Npy, BadFilesAreNamedWithTheReason) {
  expect_contains(error_of([&] { read_npy(path("none.npy")); }), {"cannot open", "none.npy"});
  std::ofstream(path("text.npy")) << "hello, not numpy";
  expect_contains(error_of([&] { read_npy(path("text.npy")); }), {"text.npy", "not an .npy file"});
  const float f[4] = {1, 2, 3, 4};
  write_npy(path("t.npy"), NpyType::kFloat32, {4}, f);
  fs::resize_file(path("t.npy"), fs::file_size(path("t.npy")) - 3);
  expect_contains(error_of([&] { read_npy(path("t.npy")); }), {"t.npy", "truncated data", "13 of 16"});
  write_npy(path("d.npy"), NpyType::kFloat32, {4}, f);
  std::string d = file_bytes(path("d.npy"));
  d.replace(d.find("<f4"), 3, "<i8");
  std::ofstream(path("i8.npy"), std::ios::binary) << d;
  expect_contains(error_of([&] { read_npy(path("i8.npy")); }),
                  {"i8.npy", "'<i8'", "expected |u1, <i2, <f2, <f4 or <f8"});
  d.replace(d.find("False"), 5, "True ");
  d.replace(d.find("<i8"), 3, "<f4");
  std::ofstream(path("fo.npy"), std::ios::binary) << d;
  expect_contains(error_of([&] { read_npy(path("fo.npy")); }), {"fo.npy", "Fortran order"});
}

TEST_F(Npy, MappedFilesShowTheSameItemsAndRefuseShortOnes) {
  std::vector<uint16_t> v(3 * 5 * 7);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint16_t>(i * 977);
  write_npy(path("w.npy"), NpyType::kFloat16, {3, 5, 7}, v.data());
  {
    const MappedNpy m(path("w.npy"));
    EXPECT_EQ(m.type(), NpyType::kFloat16);
    EXPECT_EQ(m.shape(), (std::vector<int64_t>{3, 5, 7}));
    EXPECT_EQ(std::memcmp(m.items<uint16_t>(), v.data(), v.size() * 2), 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(m.data()) % 64, 0u);  // NumPy's and our headers align the data
  }
  const std::string full = file_bytes(path("w.npy"));
  std::ofstream(path("short.npy"), std::ios::binary).write(full.data(), static_cast<std::streamsize>(full.size() - 3));
  expect_contains(error_of([&] { MappedNpy m(path("short.npy")); }), {"short.npy", "truncated data", "207 of 210"});
  std::ofstream(path("text.npy")) << "hello";
  expect_contains(error_of([&] { MappedNpy m(path("text.npy")); }), {"text.npy", "not an .npy file"});
  expect_contains(error_of([&] { MappedNpy m(path("absent.npy")); }), {"absent.npy"});
}

// Headers that lie about their size: the byte count is computed with every product checked, so a shape
// whose size wraps (2^62 x 4 float32 items: 2^66 bytes, 0 in 64 bits) is refused instead of mapping or
// allocating what the wrapped number says.
TEST_F(Npy, ShapesThatOverflowOrMisparseAreRefused) {
  const auto npy = [&](const std::string& name, const std::string& dict) {
    std::string header = dict;
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ').append("\n");
    std::string bytes = "\x93NUMPY";
    bytes += '\x01';
    bytes += '\x00';
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    bytes += header;
    bytes.append(16, '\0');
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  };
  const auto refused = [](const std::string& file, std::initializer_list<const char*> parts) {
    expect_contains(error_of([&] { read_npy(file); }), parts);
    expect_contains(error_of([&] { MappedNpy m(file); }), parts);
  };
  refused(npy("wrap.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"),
          {"wrap.npy", "more than 1099511627776 bytes"});
  refused(npy("big.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (1048576, 1048576, 2), }"),
          {"big.npy", "more than 1099511627776 bytes"});
  refused(npy("huge.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
          {"huge.npy", "bad shape entry"});
  refused(npy("dims.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }"),
          {"dims.npy", "more than 8 dimensions"});
  refused(npy("tuple.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': 7, }"),
          {"tuple.npy", "expected a tuple"});
  refused(npy("empty.npy", "{'descr': '|u1', 'fortran_order': False, 'shape':"), {"empty.npy", "expected a tuple"});
  // A claim larger than the file: refused before the buffer is allocated.
  refused(npy("claim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }"),
          {"claim.npy", "truncated data", "16 of 4000000000"});
}

}  // namespace
}  // namespace lits::testing
