// NIfTI input and output through nifticlib: CT volumes and segmentations in, masks out.
// Reads NIfTI-1 and NIfTI-2 `.nii` / `.nii.gz` files of 3D data in seven common datatypes, applies
// scl_slope/scl_inter, tolerates header extensions and keeps both the qform and the sform; writes
// NIfTI-1 masks that reuse the source image's geometry exactly, atomically (a temporary file in the
// same folder, then a rename), so that no half-written output is ever left behind.
// Bad input (missing, truncated or non-NIfTI files, unsupported datatypes, 2D or 4D data) is a
// lits::Error naming the file and the reason.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lits {

// The datatypes read and written; the values are NIfTI's DT_* codes.
enum class NiftiType : int {
  kUint8 = 2,
  kInt16 = 4,
  kInt32 = 8,
  kFloat32 = 16,
  kFloat64 = 64,
  kInt8 = 256,
  kUint16 = 512,
};

// "uint8", "int16", ...
const char* nifti_type_name(NiftiType type);

// Where the voxels are: the header fields a mask must share with its source so that every viewer
// overlays the two. Voxel order everywhere is NIfTI's: i fastest, then j, then k.
struct NiftiGeometry {
  std::array<int64_t, 3> dims{1, 1, 1};         // nx, ny, nz
  std::array<double, 3> pixdim{1.0, 1.0, 1.0};  // voxel spacing (dx, dy, dz), in xyz_units
  int qform_code = 0;                           // NIFTI_XFORM_* codes; 0 = that transform is unset
  int sform_code = 0;
  // The qform as NIfTI stores it: a unit quaternion (b, c, d), the offset, and qfac = -1 for a
  // left-handed grid (pixdim[0] in the header).
  double quatern_b = 0.0, quatern_c = 0.0, quatern_d = 0.0;
  double qoffset_x = 0.0, qoffset_y = 0.0, qoffset_z = 0.0;
  double qfac = 1.0;
  // The sform's three affine rows: x = srow_x . (i, j, k, 1), and so on.
  std::array<double, 4> srow_x{0.0, 0.0, 0.0, 0.0};
  std::array<double, 4> srow_y{0.0, 0.0, 0.0, 0.0};
  std::array<double, 4> srow_z{0.0, 0.0, 0.0, 0.0};
  int xyz_units = 0;  // NIFTI_UNITS_* codes (2 = mm); 0 = unknown
  int time_units = 0;

  int64_t voxel_count() const { return dims[0] * dims[1] * dims[2]; }
  // The voxel-to-world affine's three rows, as nifticlib chooses it: the sform when sform_code > 0,
  // else the qform when qform_code > 0, else the bare spacing (NIfTI's "method 1").
  std::array<std::array<double, 4>, 3> affine() const;
  // The world direction each voxel axis points to, in RAS+ letters as nibabel's aff2axcodes spells
  // them: "RAS", "LAS", "LPS", ... ('?' for an axis of a degenerate affine).
  std::string orientation() const;

  bool operator==(const NiftiGeometry&) const = default;
};

// A 3D volume on a RAS grid with the given spacing in mm, qform and sform both set (scanner
// coordinates), origin at voxel (0, 0, 0): what the phantom generator and the tests start from.
NiftiGeometry make_nifti_geometry(const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing);

struct NiftiVolume {
  NiftiGeometry geometry;
  NiftiType datatype = NiftiType::kFloat32;  // as stored in the file
  double scl_slope = 0.0;                    // as stored; 0 = no scaling (NIfTI's rule)
  double scl_inter = 0.0;
  // raw * scl_slope + scl_inter when scl_slope != 0, else raw; float holds int16 CT values and their
  // usual rescalings exactly, at half the memory of double (a 512x512x1000 CT is 262M voxels).
  // NaN and infinity in float data read as 0 (nifticlib's rule).
  std::vector<float> values;
};

// The header alone (no voxel data is read), with every check read_nifti makes before loading.
NiftiGeometry read_nifti_geometry(const std::string& path);

// The whole volume. Accepts `.nii` and `.nii.gz` names; NIfTI-2 files are read too.
NiftiVolume read_nifti(const std::string& path);

// A segmentation as bytes: every voxel (after scl_slope/scl_inter) must be an integer in 0..255,
// else the error names the file, the voxel (i, j, k) and its value. Which labels are allowed (0/1/2
// for LiTS) is the caller's rule. Read without a float copy, so it costs one byte per voxel.
std::vector<uint8_t> read_nifti_labels(const std::string& path);

// Writes a uint8 mask (scl_slope 1, scl_inter 0) with `geometry` exactly as given: dims, pixdim,
// qform and sform with their codes, units. `.nii` or `.nii.gz` by the name's extension; NIfTI-1.
// Atomic: written under a temporary name in the same folder, then renamed over `path`. (From a NIfTI-2
// source, the double header fields round to NIfTI-1's floats.)
void write_nifti_mask(const std::string& path, const NiftiGeometry& geometry, const std::vector<uint8_t>& voxels);

// Writes `values` as `datatype` (no scaling), otherwise as write_nifti_mask. For an integer datatype
// every value must be an integer within the type's range, else the error names the voxel and value.
void write_nifti_volume(const std::string& path, const NiftiGeometry& geometry, const std::vector<float>& values,
                        NiftiType datatype);

// Writes a probability map: uint16 values v read back as v / 65535 (scl_slope 1/65535, scl_inter 0; NIfTI
// has no 16-bit float type, and this is as small with finer steps near 1), otherwise as write_nifti_mask.
void write_nifti_probability(const std::string& path, const NiftiGeometry& geometry,
                             const std::vector<uint16_t>& values);

// Removes the temporary files (NAME.tmpPID_N.nii[.gz]) that a writer killed mid-file left in `folder`,
// those whose process is gone; returns how many. A running writer's files are left alone.
int remove_stale_nifti_temporaries(const std::string& folder);

}  // namespace lits
