// libFuzzer target: the NIfTI readers (read_nifti_geometry, read_nifti, read_nifti_labels) on any bytes.
// The first byte picks the file: bit 0 a .nii.gz name, bit 1 the rest written as it is rather than
// gzip-compressed. So for a .nii.gz the mutations reach the header and the voxels through the
// decompressed stream (a compressed file is checked against what it decompresses to), and with bit 1
// they reach the gzip stream itself.
#include "pipeline/io/nifti.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool gz_name = (data[0] & 1) != 0, as_is = (data[0] & 2) != 0;
  const std::string path =
      lits::fuzz::input_file(data + 1, size - 1, gz_name ? "input.nii.gz" : "input.nii", gz_name && !as_is);
  lits::fuzz::refused_or_read([&] { lits::read_nifti_geometry(path); });
  lits::fuzz::refused_or_read([&] { lits::read_nifti(path); });
  lits::fuzz::refused_or_read([&] { lits::read_nifti_labels(path); });
  return 0;
}
