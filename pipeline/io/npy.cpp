// .npy reading and writing (see npy.h). The header is the Python dict literal NumPy writes,
// padded with spaces so that the data starts at a multiple of 64 bytes.
#include "pipeline/io/npy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace lits {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;
// What a header may claim: the store's arrays are 1 to 3 dims and far below a TiB.
constexpr size_t kMaxDims = 8;
constexpr int64_t kMaxBytes = int64_t{1} << 40;

int64_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string header_text(NpyType type, const std::vector<int64_t>& shape) {
  // Built with append: GCC 12 gives a false -Wrestrict on chained operator+ at -O3.
  std::string s = "{'descr': '";
  s.append(npy_descr(type)).append("', 'fortran_order': False, 'shape': (");
  for (size_t i = 0; i < shape.size(); ++i) s.append(i ? ", " : "").append(std::to_string(shape[i]));
  if (shape.size() == 1) s += ",";
  s += "), }";
  // magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const size_t fixed = kMagicSize + 2 + 2;
  const size_t padded = (fixed + s.size() + 1 + kAlign - 1) / kAlign * kAlign;
  s.append(padded - fixed - s.size() - 1, ' ');
  s += '\n';
  return s;
}

// The value of `key` in the header dict, as text ("'<i2'", "False", "(3, 4)").
std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  std::string quoted = "'";
  quoted.append(key).append("':");
  const size_t at = header.find(quoted);
  LITS_CHECK(at != std::string::npos, "npy file '" << path << "': header has no '" << key << "' (" << header << ")");
  size_t b = header.find_first_not_of(' ', at + quoted.size());
  LITS_CHECK(b != std::string::npos, "npy file '" << path << "': header has no value for '" << key << "'");
  size_t e = b;
  if (header[b] == '(') {
    e = header.find(')', b);
    LITS_CHECK(e != std::string::npos, "npy file '" << path << "': unterminated shape in header (" << header << ")");
    ++e;
  } else {
    e = header.find_first_of(",}", b);
  }
  return header.substr(b, e - b);
}

}  // namespace

const char* npy_descr(NpyType type) {
  switch (type) {
    case NpyType::kUInt8: return "|u1";
    case NpyType::kInt16: return "<i2";
    case NpyType::kFloat16: return "<f2";
    case NpyType::kFloat32: return "<f4";
    case NpyType::kFloat64: return "<f8";
  }
  return "?";
}

int64_t npy_item_size(NpyType type) {
  switch (type) {
    case NpyType::kUInt8: return 1;
    case NpyType::kInt16: return 2;
    case NpyType::kFloat16: return 2;
    case NpyType::kFloat32: return 4;
    case NpyType::kFloat64: return 8;
  }
  return 0;
}

void write_npy(const std::string& path, NpyType type, const std::vector<int64_t>& shape, const void* data) {
  for (int64_t d : shape) LITS_CHECK(d >= 0, "write_npy '" << path << "': negative dimension " << d);
  const std::string header = header_text(type, shape);
  LITS_CHECK(header.size() <= 65535, "write_npy '" << path << "': header too long for format 1.0");
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  const int64_t bytes = count(shape) * npy_item_size(type);
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    LITS_CHECK(f != nullptr, "write_npy: cannot create '" << tmp << "': " << std::strerror(errno));
    const uint8_t version[2] = {1, 0};
    const uint16_t len = static_cast<uint16_t>(header.size());
    const uint8_t len_le[2] = {static_cast<uint8_t>(len & 0xff), static_cast<uint8_t>(len >> 8)};
    bool ok = std::fwrite(kMagic, 1, kMagicSize, f) == kMagicSize && std::fwrite(version, 1, 2, f) == 2 &&
              std::fwrite(len_le, 1, 2, f) == 2 && std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
              (bytes == 0 || std::fwrite(data, 1, static_cast<size_t>(bytes), f) == static_cast<size_t>(bytes));
    ok = std::fflush(f) == 0 && ok;
    ok = ::fsync(::fileno(f)) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      std::remove(tmp.c_str());
      LITS_THROW("write_npy: writing '" << tmp << "' failed: " << std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LITS_THROW("write_npy: cannot rename '" << tmp << "' to '" << path << "': " << std::strerror(err));
  }
}

namespace {

// Reads and checks the magic, version and header of an open .npy file; returns the dtype and shape and
// leaves `in` at the first data byte.
NpyHeader read_header(std::istream& in, const std::string& path) {
  char magic[kMagicSize];
  uint8_t version[2], len_le[2];
  in.read(magic, kMagicSize);
  in.read(reinterpret_cast<char*>(version), 2);
  LITS_CHECK(in.good() && std::memcmp(magic, kMagic, kMagicSize) == 0,
             "'" << path << "' is not an .npy file (no \\x93NUMPY magic)");
  LITS_CHECK(version[0] == 1, "npy file '" << path << "': format version " << int(version[0]) << "." << int(version[1])
                                           << " (expected 1.x)");
  in.read(reinterpret_cast<char*>(len_le), 2);
  const size_t len = static_cast<size_t>(len_le[0]) | static_cast<size_t>(len_le[1]) << 8;
  std::string header(len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(len));
  LITS_CHECK(in.good(), "npy file '" << path << "': truncated header");
  NpyHeader h;
  h.data_offset = static_cast<int64_t>(kMagicSize + 4 + len);
  const std::string descr = header_field(header, "descr", path);
  bool known = false;
  for (NpyType t : {NpyType::kUInt8, NpyType::kInt16, NpyType::kFloat16, NpyType::kFloat32, NpyType::kFloat64}) {
    std::string expect = "'";
    expect.append(npy_descr(t)).append("'");
    if (descr == expect) {
      h.type = t;
      known = true;
    }
  }
  LITS_CHECK(known, "npy file '" << path << "': dtype " << descr << " (expected |u1, <i2, <f2, <f4 or <f8)");
  LITS_CHECK(header_field(header, "fortran_order", path) == "False",
             "npy file '" << path << "': Fortran order (expected C order)");
  std::string shape = header_field(header, "shape", path);
  LITS_CHECK(shape.size() >= 2 && shape.front() == '(' && shape.back() == ')',
             "npy file '" << path << "': shape " << shape << " (expected a tuple)");
  shape = shape.substr(1, shape.size() - 2);
  std::istringstream dims(shape);
  std::string item;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    try {
      h.shape.push_back(std::stoll(item));
    } catch (const std::exception&) {
      LITS_THROW("npy file '" << path << "': bad shape entry '" << item << "'");
    }
    LITS_CHECK(h.shape.back() >= 0, "npy file '" << path << "': negative dimension " << h.shape.back());
    LITS_CHECK(h.shape.size() <= kMaxDims, "npy file '" << path << "': more than " << kMaxDims << " dimensions");
  }
  // The byte count, with every product checked: a shape whose size wraps must not pass the size checks.
  int64_t bytes = npy_item_size(h.type);
  for (const int64_t d : h.shape)
    LITS_CHECK(!__builtin_mul_overflow(bytes, d, &bytes) && bytes <= kMaxBytes,
               "npy file '" << path << "': shape (" << shape << ") holds more than " << kMaxBytes << " bytes");
  h.data_bytes = bytes;
  return h;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LITS_CHECK(in.good(), "cannot open npy file '" << path << "'");
  const NpyHeader h = read_header(in, path);
  NpyArray a;
  a.type = h.type;
  a.shape = h.shape;
  const int64_t bytes = h.data_bytes;
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  LITS_CHECK(!ec && size >= h.data_offset + bytes, "npy file '" << path << "': truncated data ("
                                                                << std::max<int64_t>(size - h.data_offset, 0) << " of "
                                                                << bytes << " bytes)");
  a.bytes.resize(static_cast<size_t>(bytes));
  in.read(reinterpret_cast<char*>(a.bytes.data()), bytes);
  LITS_CHECK(in.gcount() == bytes,
             "npy file '" << path << "': truncated data (" << in.gcount() << " of " << bytes << " bytes)");
  return a;
}

MappedNpy::MappedNpy(const std::string& path) : path_(path) {
  {
    std::ifstream in(path, std::ios::binary);
    LITS_CHECK(in.good(), "cannot open npy file '" << path << "'");
    header_ = read_header(in, path);
  }
  const int64_t bytes = header_.data_bytes;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  LITS_CHECK(fd >= 0, "cannot open npy file '" << path << "': " << std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < header_.data_offset + bytes) {
    const int64_t size = st.st_size;
    ::close(fd);
    LITS_THROW("npy file '" << path << "': truncated data (" << std::max<int64_t>(size - header_.data_offset, 0)
                            << " of " << bytes << " bytes)");
  }
  map_bytes_ = static_cast<size_t>(header_.data_offset + bytes);
  void* p = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file open
  LITS_CHECK(p != MAP_FAILED,
             "npy file '" << path << "': mmap of " << map_bytes_ << " bytes failed: " << std::strerror(err));
  map_ = p;
}

MappedNpy::~MappedNpy() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
}

const uint8_t* MappedNpy::data() const { return static_cast<const uint8_t*>(map_) + header_.data_offset; }

}  // namespace lits
