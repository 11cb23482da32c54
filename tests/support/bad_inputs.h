// The bad-input corpus: malformed NIfTI volumes and setup files made the way a broken scanner export or
// an attacker would make them (sizes that overflow or wrap, negative byte counts, wrong datatypes,
// truncations, links that lead nowhere, setups far beyond the limits). The corpus test
// (tests/pipeline/bad_input_corpus_test.cpp) runs every case through the readers and the `lits` command;
// the fuzzers' seed maker (tests/fuzz/make_seeds.cpp) writes them as starting points. No GoogleTest here,
// so that the fuzz build can use it too.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lits::testing {

struct BadInput {
  enum class Make { kFile, kRaw, kSymlinkLoop, kDanglingSymlink, kDirectory, kFifo };
  std::string name;  // the file's name: volume-N.nii[.gz] or setup-N.txt, N the case's number
  std::string kind;  // what is wrong, e.g. "nifti2 dims 4294967296 x 4294967296 x 1"
  // How the file system entry is made; kRaw: the bytes as they are, even for a .gz name.
  Make make = Make::kFile;
  std::string bytes;                // the content, uncompressed (a .gz name is written gzip-compressed)
  std::vector<std::string> expect;  // what the error must say, besides the file's name
  bool tolerated = false;           // a quirk the readers accept (it must read, not crash)
  bool data_only = false;           // the header is sound, the data is not: read_nifti_geometry reads it
};

// About 270 NIfTI cases (NIfTI-1 and NIfTI-2, each as .nii and .nii.gz, plus file-system oddities),
// numbered from `first`.
std::vector<BadInput> bad_nifti_inputs(int first = 0);
// About 30 setup files (variation files on the Baseline), numbered from `first`.
std::vector<BadInput> bad_setup_inputs(int first = 0);

// A good NIfTI-1 or NIfTI-2 .nii of 8 x 8 x 4 int16 voxels (labels 0 and 1 only, so it is also a good
// segmentation); the base every NIfTI case is a mutation of.
std::string good_nifti1();
std::string good_nifti2();

// A NIfTI-2 header of int16 voxels with these dims and vox_offset (1 mm spacing, no scaling), then the
// 4-byte extender saying "no extensions"; the voxels are for the caller to append.
std::string nifti2_header(const std::array<int64_t, 3>& dims, int64_t vox_offset);

// Writes the case into `folder` (gzip-compressed for a .gz name); returns its path.
std::filesystem::path write_bad_input(const std::filesystem::path& folder, const BadInput& c);

}  // namespace lits::testing
