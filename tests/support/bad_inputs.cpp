// The bad-input corpus (see bad_inputs.h). Every NIfTI case is the good 8 x 8 x 4 int16 file with one
// thing changed, so that the check it meets is the one it is named after.
#include "tests/support/bad_inputs.h"

#include <nifti2_io.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <stdexcept>

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDims[3] = {8, 8, 4};
constexpr int64_t kDataBytes = 8 * 8 * 4 * 2;

// Labels 0 and 1 (a 4 x 4 square in every slice), as int16.
std::string voxels() {
  std::string data(kDataBytes, '\0');
  for (int64_t z = 0; z < kDims[2]; ++z)
    for (int64_t y = 2; y < 6; ++y)
      for (int64_t x = 2; x < 6; ++x) data[static_cast<size_t>(2 * ((z * 8 + y) * 8 + x))] = 1;
  return data;
}

template <typename H>
std::string bytes_of(const H& h) {
  return std::string(reinterpret_cast<const char*>(&h), sizeof(h));
}

nifti_1_header header1() {
  nifti_1_header h{};
  h.sizeof_hdr = 348;
  std::memcpy(h.magic, "n+1\0", 4);
  h.datatype = NIFTI_TYPE_INT16;
  h.bitpix = 16;
  h.dim[0] = 3;
  for (int d = 0; d < 3; ++d) h.dim[d + 1] = static_cast<short>(kDims[d]);
  for (int d = 4; d < 8; ++d) h.dim[d] = 1;
  for (float& p : h.pixdim) p = 1.0f;
  h.vox_offset = 352.0f;
  h.scl_slope = 1.0f;
  h.xyzt_units = NIFTI_UNITS_MM;
  return h;
}

nifti_2_header header2() {
  nifti_2_header h{};
  h.sizeof_hdr = 540;
  std::memcpy(h.magic, "n+2\0\r\n\032\n", 8);
  h.datatype = NIFTI_TYPE_INT16;
  h.bitpix = 16;
  h.dim[0] = 3;
  for (int d = 0; d < 3; ++d) h.dim[d + 1] = kDims[d];
  for (int d = 4; d < 8; ++d) h.dim[d] = 1;
  for (double& p : h.pixdim) p = 1.0;
  h.vox_offset = 544;
  h.scl_slope = 1.0;
  h.xyzt_units = NIFTI_UNITS_MM;
  return h;
}

// Header, a 4-byte extender (no extensions unless `extension` is given) and the voxels.
std::string file1(const std::function<void(nifti_1_header&)>& edit, const std::string& extension = "") {
  nifti_1_header h = header1();
  edit(h);
  std::string s = bytes_of(h);
  s.append(1, extension.empty() ? '\0' : '\1').append(3, '\0');
  return s + extension + voxels();
}
std::string file2(const std::function<void(nifti_2_header&)>& edit, const std::string& extension = "") {
  nifti_2_header h = header2();
  edit(h);
  std::string s = bytes_of(h);
  s.append(1, extension.empty() ? '\0' : '\1').append(3, '\0');
  return s + extension + voxels();
}

// An extension block as the header's extender announces it: esize (which should be a multiple of 16,
// the block's whole size), ecode, then `esize - 8` bytes (or fewer when esize lies).
std::string extension(int32_t esize, int32_t ecode, int64_t body) {
  std::string s(reinterpret_cast<const char*>(&esize), 4);
  s.append(reinterpret_cast<const char*>(&ecode), 4);
  return s.append(static_cast<size_t>(std::max<int64_t>(body, 0)), 'x');
}

std::string text(int64_t v) { return std::to_string(v); }

// `bytes` as a gzip stream.
std::string gzip(const std::string& bytes) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&z, bytes.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (r != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

class Corpus {
 public:
  explicit Corpus(int first) : next_(first) {}

  // A header mutation, as .nii and as .nii.gz.
  void both(const std::string& kind, const std::string& bytes, std::vector<std::string> expect,
            bool tolerated = false) {
    for (const char* ext : {".nii", ".nii.gz"}) add(kind, ext, bytes, expect, tolerated);
  }
  void add(const std::string& kind, const std::string& ext, const std::string& bytes,
           const std::vector<std::string>& expect, bool tolerated = false,
           BadInput::Make make = BadInput::Make::kFile) {
    BadInput c;
    c.name = "volume-" + std::to_string(next_++) + ext;
    c.kind = kind + (ext == std::string(".nii.gz") ? " (gzip)" : "");
    c.make = make;
    c.bytes = bytes;
    c.expect = expect;
    c.tolerated = tolerated;
    cases_.push_back(std::move(c));
  }
  void setup(const std::string& kind, const std::string& body, const std::vector<std::string>& expect) {
    BadInput c;
    c.name = "setup-" + std::to_string(next_++) + ".txt";
    c.kind = kind;
    c.bytes = body;
    c.expect = expect;
    cases_.push_back(std::move(c));
  }
  // A mutation that leaves the header sound and spoils the data (a short file, too few bytes per voxel).
  void data(const std::string& kind, const std::string& bytes, const std::vector<std::string>& expect) {
    both(kind, bytes, expect);
    cases_[cases_.size() - 1].data_only = cases_[cases_.size() - 2].data_only = true;
  }
  // `good` cut to each length: short of the header (`header` bytes) nothing reads; past it the header
  // does and the data is truncated.
  void cuts(const std::string& version, const std::string& good, size_t header, std::initializer_list<size_t> lengths) {
    for (const size_t cut : lengths) {
      const std::string kind =
          version + " cut to " + std::to_string(cut) + " of " + std::to_string(good.size()) + " bytes";
      if (cut >= header) {
        data(kind, good.substr(0, cut), {"truncated"});
      } else {
        both(kind, good.substr(0, cut), {"NIfTI"});
      }
    }
  }
  void take_last_as_data_only() { cases_.back().data_only = true; }
  std::vector<BadInput> take() { return std::move(cases_); }

 private:
  int next_;
  std::vector<BadInput> cases_;
};

void nifti1_cases(Corpus& c) {
  const std::string good = good_nifti1();
  for (int axis = 1; axis <= 3; ++axis) {
    for (short v : {short{0}, short{-1}, short{-32768}}) {
      c.both("nifti1 dim[" + text(axis) + "] " + text(v), file1([&](nifti_1_header& h) { h.dim[axis] = v; }),
             {"expected each dim >= 1"});
    }
  }
  c.both("nifti1 dims 32767 x 32767 x 32767 (3.5e13 voxels)",
         file1([](nifti_1_header& h) { h.dim[1] = h.dim[2] = h.dim[3] = 32767; }), {"voxels", "at most 2147483648"});
  c.data("nifti1 dims 32767 x 32767 x 2 claimed by a 864-byte file",
         file1([](nifti_1_header& h) { h.dim[1] = h.dim[2] = 32767, h.dim[3] = 2; }), {"truncated"});
  for (short v : {short{0}, short{-1}, short{2}, short{9}}) {
    c.both("nifti1 dim[0] " + text(v), file1([&](nifti_1_header& h) { h.dim[0] = v; }), {"NIfTI"});
  }
  c.both("nifti1 4D (dim[4] 2)", file1([](nifti_1_header& h) { h.dim[0] = 4, h.dim[4] = 2; }), {"4D", "3D volume"});
  c.both("nifti1 7D (dim[7] 3)", file1([](nifti_1_header& h) { h.dim[0] = 7, h.dim[7] = 3; }), {"7D", "3D volume"});
  for (short t :
       {short{0}, short{1}, short{32}, short{128}, short{1536}, short{2304}, short{1792}, short{9999}, short{-1}}) {
    c.both("nifti1 datatype " + text(t), file1([&](nifti_1_header& h) { h.datatype = t; }), {"datatype"});
  }
  c.data("nifti1 datatype float32 on int16-sized data",
         file1([](nifti_1_header& h) { h.datatype = NIFTI_TYPE_FLOAT32, h.bitpix = 32; }), {"truncated"});
  c.data("nifti1 datatype float64 with bitpix 16", file1([](nifti_1_header& h) { h.datatype = NIFTI_TYPE_FLOAT64; }),
         {"truncated"});
  for (short b : {short{0}, short{8}, short{64}, short{-16}}) {
    // nifticlib takes the bytes per voxel from the datatype alone; a wrong bitpix reads as int16.
    c.both("nifti1 bitpix " + text(b) + " for int16", file1([&](nifti_1_header& h) { h.bitpix = b; }), {}, true);
  }
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (float v : {-1.0f, -1e9f, 1e30f, 3e9f, 2147483648.0f, nan, inf}) {
    c.both("nifti1 vox_offset " + std::to_string(v), file1([&](nifti_1_header& h) { h.vox_offset = v; }),
           {"vox_offset"});
  }
  // nifticlib reads a .nii's data from the header's end when vox_offset points inside the header.
  c.both("nifti1 vox_offset 100 (inside the header)", file1([](nifti_1_header& h) { h.vox_offset = 100.0f; }), {},
         true);
  for (int axis = 1; axis <= 3; ++axis) {
    for (float v : {nan, inf, -inf}) {
      c.both("nifti1 pixdim[" + text(axis) + "] " + std::to_string(v),
             file1([&](nifti_1_header& h) { h.pixdim[axis] = v; }), {"pixdim", "finite"});
    }
  }
  for (int v : {0, 347, 540, 1000000, -348}) {
    c.both("nifti1 sizeof_hdr " + text(v), file1([&](nifti_1_header& h) { h.sizeof_hdr = v; }), {"not a NIfTI file"});
  }
  // 'ni1' (the two-file magic) on a .nii: nifticlib reads the data from the .nii itself.
  c.both("nifti1 magic 'ni1'", file1([](nifti_1_header& h) { std::memcpy(h.magic, "ni1", 4); }), {}, true);
  for (const char* m : {"\0\0\0", "n+3", "abc"}) {
    c.both(std::string("nifti1 magic '") + m + "'", file1([&](nifti_1_header& h) { std::memcpy(h.magic, m, 4); }),
           {"NIfTI"});
  }
  c.cuts("nifti1", good, 348, {0, 1, 4, 100, 347, 351, 352 + 256, 352 + 511});
  // Extensions: nifticlib reads them between the extender and vox_offset; esize must fit there.
  const auto with_ext = [](int32_t esize, int64_t body, float vox) {
    return file1([&](nifti_1_header& h) { h.vox_offset = vox; }, extension(esize, 4, body));
  };
  c.both("nifti1 extension esize 16 (well formed)", with_ext(16, 8, 368.0f), {}, true);
  for (int32_t esize : {-16, 0, 7, 1 << 30, std::numeric_limits<int32_t>::max() - 7}) {
    c.both("nifti1 extension esize " + text(esize), with_ext(esize, 8, 368.0f), {}, true);
  }
  c.data("nifti1 extension esize 1000000 past the end of a short file", with_ext(1000000, 8, 1000368.0f),
         {"truncated"});
  c.both("nifti1 scl_slope NaN", file1([&](nifti_1_header& h) { h.scl_slope = nan; }), {}, true);
  c.both("nifti1 scl_slope 1e38", file1([&](nifti_1_header& h) { h.scl_slope = 1e38f; }), {}, true);
  // Big-endian: nifticlib swaps, and the swapped dims meet the same checks.
  c.both("nifti1 byte-swapped header with dims 0x0100", file1([](nifti_1_header& h) {
           h.sizeof_hdr = 0x5C010000;  // 348 byte-swapped
           h.dim[0] = 0x0300;
           h.dim[1] = h.dim[2] = h.dim[3] = 0x0001;
         }),
         {"NIfTI"});
}

void nifti2_cases(Corpus& c) {
  const std::string good = good_nifti2();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  for (int axis = 1; axis <= 3; ++axis) {
    for (int64_t v : {int64_t{0}, int64_t{-1}, kMin}) {
      c.both("nifti2 dim[" + text(axis) + "] " + text(v), file2([&](nifti_2_header& h) { h.dim[axis] = v; }),
             {"expected each dim >= 1"});
    }
    for (int64_t v : {int64_t{65537}, int64_t{1} << 32, int64_t{1} << 40, int64_t{1} << 62, kMax}) {
      c.both("nifti2 dim[" + text(axis) + "] " + text(v), file2([&](nifti_2_header& h) { h.dim[axis] = v; }),
             {"dims", "at most 65536"});
    }
  }
  const int64_t big = int64_t{1} << 32;
  c.both("nifti2 voxel count that wraps to 0 (2^32 x 2^32 x 1)",
         file2([&](nifti_2_header& h) { h.dim[1] = h.dim[2] = big, h.dim[3] = 1; }), {"dims", "at most 65536"});
  c.both("nifti2 voxel count that wraps (2^21 x 2^21 x 2^22)",
         file2([](nifti_2_header& h) { h.dim[1] = h.dim[2] = int64_t{1} << 21, h.dim[3] = int64_t{1} << 22; }),
         {"dims", "at most 65536"});
  c.both("nifti2 negative byte count (2^31 x 2^31 x 1 int16 = 2^63 bytes)",
         file2([](nifti_2_header& h) { h.dim[1] = h.dim[2] = int64_t{1} << 31, h.dim[3] = 1; }),
         {"dims", "at most 65536"});
  c.both("nifti2 65536 x 65536 x 2 voxels", file2([](nifti_2_header& h) { h.dim[1] = h.dim[2] = 65536, h.dim[3] = 2; }),
         {"voxels", "at most 2147483648"});
  c.data("nifti2 65536 x 32768 x 1 voxels claimed by a 1056-byte file",
         file2([](nifti_2_header& h) { h.dim[1] = 65536, h.dim[2] = 32768, h.dim[3] = 1; }), {"truncated"});
  c.both("nifti2 4D with dim[4..7] 2^62", file2([](nifti_2_header& h) {
           h.dim[0] = 7;
           for (int d = 4; d < 8; ++d) h.dim[d] = int64_t{1} << 62;
         }),
         {"7D", "3D volume"});
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{8}, int64_t{1} << 40}) {
    c.both("nifti2 dim[0] " + text(v), file2([&](nifti_2_header& h) { h.dim[0] = v; }), {"NIfTI"});
  }
  for (int16_t t : {int16_t{0}, int16_t{32}, int16_t{1536}, int16_t{2304}, int16_t{-1}, int16_t{9999}}) {
    c.both("nifti2 datatype " + text(t), file2([&](nifti_2_header& h) { h.datatype = t; }), {"datatype"});
  }
  for (int64_t v : {int64_t{-1}, kMin, int64_t{1} << 62, int64_t{1} << 31, kMax}) {
    c.both("nifti2 vox_offset " + text(v), file2([&](nifti_2_header& h) { h.vox_offset = v; }), {"vox_offset"});
  }
  c.both("nifti2 vox_offset 100 (inside the header)", file2([](nifti_2_header& h) { h.vox_offset = 100; }), {}, true);
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (int axis = 1; axis <= 3; ++axis) {
    for (double v : {nan, inf}) {
      c.both("nifti2 pixdim[" + text(axis) + "] " + std::to_string(v),
             file2([&](nifti_2_header& h) { h.pixdim[axis] = v; }), {"pixdim", "finite"});
    }
  }
  for (int v : {0, 539, 541, 348}) {
    c.both("nifti2 sizeof_hdr " + text(v), file2([&](nifti_2_header& h) { h.sizeof_hdr = v; }), {"not a NIfTI file"});
  }
  c.both("nifti2 magic 'ni2...'", file2([](nifti_2_header& h) { std::memcpy(h.magic, "ni2\0\r\n\032\n", 8); }), {},
         true);
  // Without the four bytes after "n+2" that detect a text-mode transfer: nifticlib does not look at them.
  c.both("nifti2 magic 'n+2' without its transfer check",
         file2([](nifti_2_header& h) { std::memcpy(h.magic, "n+2\0\0\0\0\0", 8); }), {}, true);
  for (const char* m : {"n+3\0\r\n\032\n"}) {
    c.both(std::string("nifti2 magic '") + std::string(m, 3) + "...'",
           file2([&](nifti_2_header& h) { std::memcpy(h.magic, m, 8); }), {"NIfTI"});
  }
  c.cuts("nifti2", good, 540, {0, 100, 539, 543, 544 + 256, 544 + 511});
  const auto with_ext = [](int32_t esize, int64_t body, int64_t vox) {
    return file2([&](nifti_2_header& h) { h.vox_offset = vox; }, extension(esize, 4, body));
  };
  for (int32_t esize : {-16, 7, std::numeric_limits<int32_t>::max() - 7}) {
    c.both("nifti2 extension esize " + text(esize), with_ext(esize, 8, 560), {}, true);
  }
  c.both("nifti2 scl_slope inf", file2([&](nifti_2_header& h) { h.scl_slope = inf; }), {}, true);
}

void file_system_cases(Corpus& c) {
  using M = BadInput::Make;
  c.add("empty file", ".nii", "", {"not a NIfTI file"});
  c.add("empty file", ".nii.gz", "", {"not a NIfTI file"});
  c.add("one byte", ".nii", "x", {"not a NIfTI file"});
  c.add("text", ".nii", "this is not a NIfTI file\n", {"not a NIfTI file"});
  std::string noise(4096, '\0');
  uint32_t s = 12345;
  for (char& ch : noise) ch = static_cast<char>((s = s * 1664525u + 1013904223u) >> 24);
  c.add("4096 random bytes", ".nii", noise, {"not a NIfTI file"});
  c.add("4096 random bytes named .nii.gz (not gzip)", ".nii.gz", noise, {"not a NIfTI file"}, false, M::kRaw);
  const std::string gz = gzip(good_nifti1());
  c.add("gzip stream cut in half", ".nii.gz", gz.substr(0, gz.size() / 2), {}, false, M::kRaw);
  c.take_last_as_data_only();
  std::string flipped = gz;
  for (size_t i = 20; i < flipped.size() - 8; i += 7) flipped[i] = static_cast<char>(~flipped[i]);
  c.add("gzip stream with flipped bits", ".nii.gz", flipped, {}, false, M::kRaw);
  c.add("symbolic link to itself", ".nii", "", {"symbolic link", "loop"}, false, M::kSymlinkLoop);
  c.add("symbolic link to itself", ".nii.gz", "", {"symbolic link", "loop"}, false, M::kSymlinkLoop);
  c.add("dangling symbolic link", ".nii", "", {"symbolic link", "dangling"}, false, M::kDanglingSymlink);
  c.add("folder named like a volume", ".nii", "", {"not a regular file"}, false, M::kDirectory);
  c.add("named pipe named like a volume (must not block)", ".nii", "", {"not a regular file"}, false, M::kFifo);
}

}  // namespace

std::string good_nifti1() {
  return file1([](nifti_1_header&) {});
}
std::string nifti2_header(const std::array<int64_t, 3>& dims, int64_t vox_offset) {
  nifti_2_header h = header2();
  for (int d = 0; d < 3; ++d) h.dim[d + 1] = dims[static_cast<size_t>(d)];
  h.vox_offset = vox_offset;
  return bytes_of(h).append(4, '\0');
}
std::string good_nifti2() {
  return file2([](nifti_2_header&) {});
}

std::vector<BadInput> bad_nifti_inputs(int first) {
  Corpus c(first);
  nifti1_cases(c);
  nifti2_cases(c);
  file_system_cases(c);
  return c.take();
}

std::vector<BadInput> bad_setup_inputs(int first) {
  Corpus c(first);
  const std::string head = "=== a bad run\n";
  std::string deep = "[1";
  for (int i = 1; i < 40; ++i) deep += ", 1";
  // `deep` is "[1, 1, ..." with 40 entries; the outer brackets list the variations of the key.
  c.setup("structure of 40 levels", head + "#Network\nstructure: [" + deep + "]]\n", {"structure", "at most 10"});
  c.setup("structure of 20 levels", head + "#Network\nstructure: [" + deep.substr(0, 59) + "]]\n",
          {"structure", "at most 10"});
  c.setup("structure of 2 levels", head + "#Network\nstructure: [[1, 1]]\n", {"structure", "at least 3"});
  c.setup("structure empty", head + "#Network\nstructure: [[]]\n", {"structure"});
  c.setup("structure repeats 1000000", head + "#Network\nstructure: [[1, 1000000, 1]]\n", {"structure", "1 to 32"});
  c.setup("structure repeats -1", head + "#Network\nstructure: [[1, -1, 1]]\n", {"structure"});
  c.setup("structure of strings", head + "#Network\nstructure: [['a', 'b', 'c']]\n", {"structure"});
  c.setup("filter_start 1000000000", head + "#Network\nfilter_start: [1000000000]\n",
          {"filter_start", "1000000000", "1 to 1024"});
  c.setup("filter_start 0", head + "#Network\nfilter_start: [0]\n", {"filter_start"});
  c.setup("filter_start -4", head + "#Network\nfilter_start: [-4]\n", {"filter_start"});
  c.setup("filter_start 1024 on 10 levels (deepest width)",
          head + "#Network\nstructure: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]\nfilter_start: [1024]\n", {"at most"});
  c.setup("num_classes 1000000", head + "#Training\nnum_classes: [1000000]\n", {"num_classes", "at most 256"});
  c.setup("num_classes 0", head + "#Training\nnum_classes: [0]\n", {"classes 0"});
  c.setup("channels 100000", head + "#Network\nchannels: [100000]\n", {"channels", "at most 64"});
  c.setup("dilation 1000", head + "#Network\ndilation: [1000]\n", {"dilation"});
  c.setup("dropout 2.5", head + "#Network\ndropout: [2.5]\n", {"dropout"});
  c.setup("batch_size 1000000000", head + "#Training\nbatch_size: [1000000000]\n", {"batch_size", "1 to 4096"});
  c.setup("batch_size 0", head + "#Training\nbatch_size: [0]\n", {"batch_size"});
  c.setup("crop_size 1000000", head + "#Training\ncrop_size: [[1000000, 1000000]]\n", {"crop_size", "1 to 8192"});
  c.setup("crop_size negative", head + "#Training\ncrop_size: [[-64, 64]]\n", {"crop_size"});
  c.setup("n_epochs 1e12", head + "#Training\nn_epochs: [1000000000000]\n", {"n_epochs", "0 to 100000"});
  c.setup("num_workers 1000000", head + "#Training\nnum_workers: [1000000]\n", {"num_workers", "0 to 256"});
  c.setup("lr NaN", head + "#Training\nlr: [nan]\n", {"lr"});
  c.setup("lr negative", head + "#Training\nlr: [-0.1]\n", {"lr"});
  std::string nest(300, '[');
  c.setup("a literal nested 300 deep", head + "#Network\nstructure: " + nest + "\n", {"nested"});
  c.setup("an unterminated list", head + "#Network\nstructure: [[1, 2, 3\n", {"structure"});
  c.setup("an unterminated string", head + "#Training\ndata: ['liver\n", {"data"});
  c.setup("a key outside any section", head + "structure: [[1, 1, 1]]\n", {"structure"});
  c.setup("an unknown key", head + "#Network\nno_such_key: [1]\n", {"no_such_key"});
  static const char binary[] = "#Network\n\0\1\2\3structure: \xff\xfe\n";
  c.setup("NUL bytes and binary", head + std::string(binary, sizeof(binary) - 1), {"setup"});
  return c.take();
}

fs::path write_bad_input(const fs::path& folder, const BadInput& c) {
  const fs::path p = folder / c.name;
  std::error_code ec;
  fs::remove_all(p, ec);
  switch (c.make) {
    case BadInput::Make::kSymlinkLoop: fs::create_symlink(c.name, p); return p;
    case BadInput::Make::kDanglingSymlink: fs::create_symlink("no-such-file.nii", p); return p;
    case BadInput::Make::kDirectory: fs::create_directory(p); return p;
    case BadInput::Make::kFifo:
      if (::mkfifo(p.c_str(), 0644) != 0) throw std::runtime_error("cannot make the named pipe " + p.string());
      return p;
    case BadInput::Make::kFile:
    case BadInput::Make::kRaw: break;
  }
  const bool compress = c.make == BadInput::Make::kFile && p.extension() == ".gz" && !c.bytes.empty();
  std::ofstream(p, std::ios::binary) << (compress ? gzip(c.bytes) : c.bytes);
  return p;
}

}  // namespace lits::testing
