// Headers that lie about their sizes, made the way a broken exporter or an attacker would make them:
// each must be a lits::Error naming the file and the limit, before any size is used (no crash, no
// allocation for the header's claim). The cases that crashed `lits segment` and `lits convert` before the
// checks of pipeline/io/nifti.cpp are here as regression tests.
#include <gtest/gtest.h>
#include <nifti2_io.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "pipeline/io/nifti.h"
#include "tests/support/bad_inputs.h"
#include "tests/support/errors.h"
#include "tests/support/temp_dir.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class NiftiBadInput : public TempDirTest {
 protected:
  // A NIfTI-2 file (nifticlib cannot write one): int16 data, the header's dims and vox_offset as given,
  // then `data_bytes` zero bytes; gzip-compressed for a .nii.gz name.
  std::string nifti2(const std::string& name, const std::array<int64_t, 3>& dims, int64_t vox_offset,
                     int64_t data_bytes) const {
    std::string bytes = nifti2_header(dims, vox_offset);
    bytes.append(static_cast<size_t>(data_bytes), '\0');
    const std::string file = path(name);
    if (name.ends_with(".gz")) {
      znzFile fp = znzopen(file.c_str(), "wb", 1);
      EXPECT_FALSE(znz_isnull(fp));
      EXPECT_EQ(znzwrite(bytes.data(), 1, bytes.size(), fp), bytes.size());
      znzclose(fp);
    } else {
      std::ofstream(file, std::ios::binary) << bytes;
    }
    return file;
  }

  // Every reader refuses `path` with an error holding each of `parts`.
  static void expect_refused_by_every_reader(const std::string& path, std::initializer_list<const char*> parts) {
    SCOPED_TRACE(path);
    expect_contains(error_of([&] { read_nifti_geometry(path); }), parts);
    expect_contains(error_of([&] { read_nifti(path); }), parts);
    expect_contains(error_of([&] { read_nifti_labels(path); }), parts);
  }
};

// The voxel count 2^32 x 2^32 wraps to 0 in 64 bits: nifticlib's own count says 0 voxels, and the
// readers that trusted it wrote a whole volume into a one-byte buffer (SIGSEGV in segment and convert).
TEST_F(NiftiBadInput, AVoxelCountThatWrapsIsRefused) {
  for (const char* ext : {".nii", ".nii.gz"}) {
    const int64_t big = int64_t{1} << 32;
    expect_refused_by_every_reader(nifti2(std::string("wrap") + ext, {big, big, 1}, 544, 0),
                                   {"wrap", "dims", "at most 65536"});
  }
}

// 2^62 int16 voxels are 2^63 bytes, a negative int64: the truncation check passed it (SIGBUS in segment).
TEST_F(NiftiBadInput, AByteCountThatGoesNegativeIsRefused) {
  for (const char* ext : {".nii", ".nii.gz"})
    expect_refused_by_every_reader(nifti2(std::string("negative") + ext, {int64_t{1} << 62, 1, 1}, 544, 0),
                                   {"negative", "at most 65536"});
}

// Within the per-axis limit, a product over the per-volume limit.
TEST_F(NiftiBadInput, TooManyVoxelsAreRefusedWithTheLimit) {
  expect_refused_by_every_reader(nifti2("many.nii", {65536, 65536, 2}, 544, 0),
                                 {"many.nii", "8589934592 voxels", "at most 2147483648"});
}

TEST_F(NiftiBadInput, AVoxOffsetBeyondTheLimitIsRefused) {
  for (const char* ext : {".nii", ".nii.gz"})
    expect_refused_by_every_reader(nifti2(std::string("offset") + ext, {4, 4, 4}, int64_t{1} << 40, 128),
                                   {"vox_offset 1099511627776"});
}

// A compressed file claiming 2 GiB of voxels with 100 bytes in its stream: the data is read in chunks, so
// the error comes after at most one chunk, not after allocating the claim.
TEST_F(NiftiBadInput, ACompressedFileShorterThanItsClaimIsTruncated) {
  const std::string path = nifti2("claim.nii.gz", {1024, 1024, 1024}, 544, 100);
  EXPECT_EQ(read_nifti_geometry(path).voxel_count(), int64_t{1} << 30);  // the header alone is valid
  expect_contains(error_of([&] { read_nifti(path); }), {"claim.nii.gz", "truncated or corrupt", "1073741824 voxels"});
  expect_contains(error_of([&] { read_nifti_labels(path); }), {"claim.nii.gz", "truncated or corrupt"});
  // The same claim uncompressed is compared with the file's size before anything is read.
  expect_contains(error_of([&] {
                    read_nifti(nifti2("claim.nii", {1024, 1024, 1024}, 544, 100));
                  }),
                  {"claim.nii", "truncated", "2147484192"});
}

// A good NIfTI-2 file still reads, through the chunked reader too.
TEST_F(NiftiBadInput, AValidFileNextToThemReads) {
  for (const char* ext : {".nii", ".nii.gz"}) {
    const NiftiVolume v = read_nifti(nifti2(std::string("good") + ext, {3, 4, 5}, 544, 120));
    EXPECT_EQ(v.geometry.dims, (std::array<int64_t, 3>{3, 4, 5}));
    EXPECT_EQ(v.values.size(), 60u);
  }
}

// A symbolic link to itself, and one to nothing, named like volumes.
TEST_F(NiftiBadInput, SymbolicLinksToNothingAreNamed) {
  fs::create_symlink("loop.nii", dir_ / "loop.nii");
  fs::create_symlink("nowhere.nii", dir_ / "dangling.nii");
  for (const char* name : {"loop.nii", "dangling.nii"})
    expect_refused_by_every_reader(path(name), {name, "symbolic link that leads to no file"});
}

}  // namespace
}  // namespace lits::testing
