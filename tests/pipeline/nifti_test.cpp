// NIfTI I/O: every datatype in .nii and .nii.gz, scl_slope/scl_inter, header extensions, qform-only,
// sform-only and both, orientation codes, masks that reproduce their source's header field by field,
// and bad input (missing, random, truncated, 2D, 4D, unsupported datatype) named in the error.
// The "files in the wild" are written here with nifticlib directly, so that they carry what our own
// writer never produces (scaling, extensions, odd quaternions, complex data).
#include <gtest/gtest.h>
#include <nifti2_io.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/io/nifti.h"
#include "tests/support/errors.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

struct NimFree {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NimPtr = std::unique_ptr<nifti_image, NimFree>;

struct HeaderFree {
  void operator()(nifti_1_header* h) const { std::free(h); }
};
using HeaderPtr = std::unique_ptr<nifti_1_header, HeaderFree>;

// Each test works in a fresh folder of its own, removed afterwards.
class Nifti : public ::testing::Test {
 protected:
  void SetUp() override {
    nifti_set_debug_level(0);
    dir_ = fs::temp_directory_path() / ("lits_nifti_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> files_in_dir() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

// A nifticlib image with zeroed data; `dims` lists the extents (its length is dim[0]).
NimPtr new_image(const std::vector<int64_t>& dims, int datatype) {
  int64_t d[8] = {static_cast<int64_t>(dims.size()), 1, 1, 1, 1, 1, 1, 1};
  for (size_t a = 0; a < dims.size(); ++a) d[a + 1] = dims[a];
  return NimPtr(nifti_make_new_nim(d, datatype, 1));
}

void write_image(nifti_image* nim, const std::string& path) {
  ASSERT_EQ(nifti_set_filenames(nim, path.c_str(), 0, 1), 0);
  nifti_image_write(nim);
  ASSERT_TRUE(fs::exists(path)) << path;
}

void set_spacing(nifti_image* nim, double dx, double dy, double dz) {
  nim->dx = nim->pixdim[1] = dx;
  nim->dy = nim->pixdim[2] = dy;
  nim->dz = nim->pixdim[3] = dz;
}

void set_qform(nifti_image* nim, double b, double c, double d, double x, double y, double z, double qfac) {
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->quatern_b = b;
  nim->quatern_c = c;
  nim->quatern_d = d;
  nim->qoffset_x = x;
  nim->qoffset_y = y;
  nim->qoffset_z = z;
  nim->qfac = nim->pixdim[0] = qfac;
}

void set_sform(nifti_image* nim, int code, const std::array<std::array<double, 4>, 3>& rows) {
  nim->sform_code = code;
  nim->sto_xyz = nifti_dmat44{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) nim->sto_xyz.m[r][c] = rows[r][c];
  }
  nim->sto_xyz.m[3][3] = 1.0;
}

HeaderPtr raw_header(const std::string& path) {
  int swapped = 0;
  HeaderPtr h(nifti_read_n1_hdr(path.c_str(), &swapped, 1));
  EXPECT_TRUE(h != nullptr) << path;
  return h;
}

// The header fields a mask must share with its source, compared exactly.
void expect_same_geometry_fields(const std::string& source, const std::string& mask) {
  const HeaderPtr a = raw_header(source), b = raw_header(mask);
  ASSERT_TRUE(a && b);
  for (int d = 0; d <= 3; ++d) EXPECT_EQ(a->dim[d], b->dim[d]) << "dim[" << d << "]";
  for (int d = 0; d <= 3; ++d) EXPECT_EQ(a->pixdim[d], b->pixdim[d]) << "pixdim[" << d << "]";
  EXPECT_EQ(a->qform_code, b->qform_code);
  EXPECT_EQ(a->sform_code, b->sform_code);
  EXPECT_EQ(a->quatern_b, b->quatern_b);
  EXPECT_EQ(a->quatern_c, b->quatern_c);
  EXPECT_EQ(a->quatern_d, b->quatern_d);
  EXPECT_EQ(a->qoffset_x, b->qoffset_x);
  EXPECT_EQ(a->qoffset_y, b->qoffset_y);
  EXPECT_EQ(a->qoffset_z, b->qoffset_z);
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(a->srow_x[c], b->srow_x[c]) << "srow_x[" << c << "]";
    EXPECT_EQ(a->srow_y[c], b->srow_y[c]) << "srow_y[" << c << "]";
    EXPECT_EQ(a->srow_z[c], b->srow_z[c]) << "srow_z[" << c << "]";
  }
  EXPECT_EQ(a->xyzt_units, b->xyzt_units);
  EXPECT_EQ(b->datatype, NIFTI_TYPE_UINT8);
}

// Values that exercise each type's range, cycled over the voxels; all exact in float.
std::vector<float> sample_values(NiftiType type, int64_t n) {
  std::vector<float> pool;
  switch (type) {
    case NiftiType::kUint8: pool = {0, 1, 2, 127, 128, 254, 255}; break;
    case NiftiType::kInt8: pool = {-128, -1, 0, 1, 2, 127}; break;
    case NiftiType::kInt16: pool = {-32768, -1024, -1, 0, 1, 3071, 32767}; break;
    case NiftiType::kUint16: pool = {0, 1, 1024, 40000, 65535}; break;
    case NiftiType::kInt32: pool = {-2147483648.0f, -16777216, -1, 0, 1, 16777216, 2147483520.0f}; break;
    case NiftiType::kFloat32:
    case NiftiType::kFloat64: pool = {-1024.0f, -3.5e30f, 0.1f, 0.0f, 1e-30f, 3071.25f, 1.0f / 3.0f}; break;
  }
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = pool[static_cast<size_t>(i) % pool.size()];
  return v;
}

// A RAS source: identity quaternion, and an sform that differs from the qform so that both must be kept.
void write_ras_source(const std::string& path) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  set_spacing(nim.get(), 0.75, 0.8, 2.5);
  set_qform(nim.get(), 0, 0, 0, -100.5, -120.25, 30.0, 1.0);
  set_sform(nim.get(), NIFTI_XFORM_ALIGNED_ANAT, {{{0.75, 0, 0, -99.5}, {0, 0.8, 0, -121.0}, {0, 0, 2.5, 31.5}}});
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->time_units = NIFTI_UNITS_SEC;
  for (int64_t i = 0; i < nim->nvox; ++i) static_cast<int16_t*>(nim->data)[i] = static_cast<int16_t>(i * 37 - 1000);
  write_image(nim.get(), path);
}

// A LAS source: 180 degrees about y with qfac -1 flips x only; the sform says the same.
void write_las_source(const std::string& path) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_FLOAT32);
  set_spacing(nim.get(), 0.703125, 0.703125, 5.0);
  set_qform(nim.get(), 0, 1, 0, 180.0, -200.0, -650.5, -1.0);
  set_sform(nim.get(), NIFTI_XFORM_SCANNER_ANAT,
            {{{-0.703125, 0, 0, 180.0}, {0, 0.703125, 0, -200.0}, {0, 0, 5.0, -650.5}}});
  nim->xyz_units = NIFTI_UNITS_MM;
  write_image(nim.get(), path);
}

TEST_F(Nifti, EveryDatatypeRoundTripsInNiiAndNiiGz) {
  const NiftiType types[] = {NiftiType::kUint8, NiftiType::kInt8,    NiftiType::kInt16,  NiftiType::kUint16,
                             NiftiType::kInt32, NiftiType::kFloat32, NiftiType::kFloat64};
  const NiftiGeometry g = make_nifti_geometry({3, 4, 5}, {0.5, 0.75, 2.0});
  for (NiftiType type : types) {
    for (const char* ext : {".nii", ".nii.gz"}) {
      SCOPED_TRACE(std::string(nifti_type_name(type)) + ext);
      const std::string path = file(std::string("volume_") + nifti_type_name(type) + ext);
      const std::vector<float> values = sample_values(type, g.voxel_count());
      write_nifti_volume(path, g, values, type);
      const NiftiVolume v = read_nifti(path);
      EXPECT_EQ(v.datatype, type);
      EXPECT_EQ(v.geometry, g);
      EXPECT_EQ(v.values, values);
      const HeaderPtr h = raw_header(path);
      ASSERT_TRUE(h);
      EXPECT_EQ(h->datatype, static_cast<int>(type));
    }
  }
  // Compressed by the name: gzip's magic bytes open the .nii.gz files.
  std::ifstream in(file("volume_int16.nii.gz"), std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  EXPECT_EQ(magic[0], 0x1f);
  EXPECT_EQ(magic[1], 0x8b);
}

TEST_F(Nifti, VoxelOrderIsAsStoredIFastest) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  for (int64_t k = 0; k < 5; ++k) {
    for (int64_t j = 0; j < 4; ++j) {
      for (int64_t i = 0; i < 3; ++i) static_cast<int16_t*>(nim->data)[i + 3 * (j + 4 * k)] = i + 10 * j + 100 * k;
    }
  }
  write_image(nim.get(), file("order.nii"));
  const NiftiVolume v = read_nifti(file("order.nii"));
  EXPECT_EQ(v.geometry.dims, (std::array<int64_t, 3>{3, 4, 5}));
  EXPECT_EQ(v.values[1], 1.0f);
  EXPECT_EQ(v.values[3], 10.0f);
  EXPECT_EQ(v.values[12], 100.0f);
  EXPECT_EQ(v.values[59], 2.0f + 30.0f + 400.0f);
}

TEST_F(Nifti, SclSlopeAndInterAreApplied) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  for (int64_t i = 0; i < nim->nvox; ++i) static_cast<int16_t*>(nim->data)[i] = static_cast<int16_t>(i * 100 - 7);
  nim->scl_slope = 0.5;
  nim->scl_inter = -1024.0;
  write_image(nim.get(), file("scaled.nii.gz"));
  const NiftiVolume v = read_nifti(file("scaled.nii.gz"));
  EXPECT_EQ(v.datatype, NiftiType::kInt16);
  EXPECT_EQ(v.scl_slope, 0.5);
  EXPECT_EQ(v.scl_inter, -1024.0);
  for (int64_t i = 0; i < nim->nvox; ++i) EXPECT_EQ(v.values[i], (i * 100 - 7) * 0.5f - 1024.0f) << i;

  // NIfTI's rule: a zero slope means no scaling at all, the intercept included.
  nim->scl_slope = 0.0;
  nim->scl_inter = 5.0;
  write_image(nim.get(), file("unscaled.nii"));
  const NiftiVolume u = read_nifti(file("unscaled.nii"));
  for (int64_t i = 0; i < nim->nvox; ++i) EXPECT_EQ(u.values[i], i * 100 - 7.0f) << i;

  // Labels are scaled too: float raw 0/1 with slope 2 are labels 0/2.
  NimPtr lab = new_image({3, 4, 5}, NIFTI_TYPE_FLOAT32);
  for (int64_t i = 0; i < lab->nvox; ++i) static_cast<float*>(lab->data)[i] = static_cast<float>(i % 2);
  lab->scl_slope = 2.0;
  write_image(lab.get(), file("scaled_labels.nii"));
  const std::vector<uint8_t> labels = read_nifti_labels(file("scaled_labels.nii"));
  for (int64_t i = 0; i < lab->nvox; ++i) EXPECT_EQ(labels[i], 2 * (i % 2)) << i;
}

// Big-endian files, as some older scanner software writes them: the same header and voxels, every
// field and voxel byte-swapped (nifticlib itself only writes native order).
TEST_F(Nifti, BigEndianFilesAreSwapped) {
  write_ras_source(file("little.nii"));
  const HeaderPtr h = raw_header(file("little.nii"));
  ASSERT_TRUE(h);
  std::ifstream in(file("little.nii"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nifti_1_header swapped = *h;
  nifti_swap_as_nifti1(&swapped);
  std::memcpy(bytes.data(), &swapped, sizeof(swapped));
  for (size_t at = static_cast<size_t>(h->vox_offset); at + 1 < bytes.size(); at += 2)
    std::swap(bytes[at], bytes[at + 1]);
  std::ofstream(file("big.nii"), std::ios::binary) << bytes;

  const NiftiVolume little = read_nifti(file("little.nii"));
  const NiftiVolume big = read_nifti(file("big.nii"));
  EXPECT_EQ(big.geometry, little.geometry);
  EXPECT_EQ(big.values, little.values);
  EXPECT_EQ(big.values[59], 59 * 37 - 1000.0f);
}

// NIfTI-2 (64-bit dims) is read too; nifticlib cannot write it, so the file is put together here.
TEST_F(Nifti, NiftiTwoFilesAreRead) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  set_spacing(nim.get(), 0.75, 0.8, 2.5);
  set_qform(nim.get(), 0, 1, 0, 180.0, -200.0, -650.5, -1.0);
  nim->xyz_units = NIFTI_UNITS_MM;
  for (int64_t i = 0; i < nim->nvox; ++i) static_cast<int16_t*>(nim->data)[i] = static_cast<int16_t>(3 * i - 90);
  nifti_2_header h{};
  ASSERT_EQ(nifti_convert_nim2n2hdr(nim.get(), &h), 0);
  h.vox_offset = 544;  // the 540-byte header and a 4-byte extender saying "no extensions"
  std::string bytes(reinterpret_cast<const char*>(&h), sizeof(h));
  bytes.append(4, '\0');
  bytes.append(static_cast<const char*>(nim->data), static_cast<size_t>(nim->nvox * nim->nbyper));
  std::ofstream(file("two.nii"), std::ios::binary) << bytes;

  const NiftiVolume v = read_nifti(file("two.nii"));
  EXPECT_EQ(v.geometry.dims, (std::array<int64_t, 3>{3, 4, 5}));
  EXPECT_EQ(v.geometry.pixdim, (std::array<double, 3>{0.75, 0.8, 2.5}));
  EXPECT_EQ(v.geometry.qfac, -1.0);
  EXPECT_EQ(v.geometry.orientation(), "LAS");
  EXPECT_EQ(v.values[59], 3 * 59 - 90.0f);
  // Its mask is NIfTI-1 with the same geometry (float header fields: 0.8 is the nearest float).
  write_nifti_mask(file("two_mask.nii"), v.geometry, std::vector<uint8_t>(60, 1));
  NiftiGeometry expected = v.geometry;
  expected.pixdim[1] = 0.8f;
  EXPECT_EQ(read_nifti_geometry(file("two_mask.nii")), expected);
}

// nifticlib's reader replaces NaN and infinity in float data with 0; pinned here so that a change is seen.
TEST_F(Nifti, NonFiniteFloatsReadAsZero) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_FLOAT32);
  static_cast<float*>(nim->data)[3] = std::nanf("");
  static_cast<float*>(nim->data)[4] = -INFINITY;
  static_cast<float*>(nim->data)[5] = 2.5f;
  write_image(nim.get(), file("nonfinite.nii"));
  const NiftiVolume v = read_nifti(file("nonfinite.nii"));
  EXPECT_EQ(v.values[3], 0.0f);
  EXPECT_EQ(v.values[4], 0.0f);
  EXPECT_EQ(v.values[5], 2.5f);
}

TEST_F(Nifti, HeaderExtensionsAreTolerated) {
  for (const char* ext : {".nii", ".nii.gz"}) {
    SCOPED_TRACE(ext);
    NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_UINT8);
    for (int64_t i = 0; i < nim->nvox; ++i) static_cast<uint8_t*>(nim->data)[i] = static_cast<uint8_t>(i);
    const std::string comment = "converted by some scanner software, 40 bytes+";
    ASSERT_EQ(nifti_add_extension(nim.get(), comment.c_str(), static_cast<int>(comment.size()), NIFTI_ECODE_COMMENT),
              0);
    const std::string path = file(std::string("extended") + ext);
    write_image(nim.get(), path);
    NimPtr check(nifti_image_read(path.c_str(), 0));
    ASSERT_TRUE(check);
    EXPECT_EQ(check->num_ext, 1);
    EXPECT_GT(check->iname_offset, 352);
    const NiftiVolume v = read_nifti(path);
    for (int64_t i = 0; i < nim->nvox; ++i) EXPECT_EQ(v.values[i], static_cast<float>(i)) << i;
    EXPECT_EQ(read_nifti_labels(path)[59], 59);
  }
}

TEST_F(Nifti, QformOnlySformOnlyAndBothAreKept) {
  // qform only: a 120-degree turn about (1, 1, 1) maps i to +y, j to +z, k to +x.
  NimPtr q = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  set_spacing(q.get(), 2.0, 3.0, 4.0);
  set_qform(q.get(), 0.5, 0.5, 0.5, 10.0, 20.0, 30.0, 1.0);
  write_image(q.get(), file("qform.nii"));
  const NiftiGeometry gq = read_nifti_geometry(file("qform.nii"));
  EXPECT_EQ(gq.qform_code, NIFTI_XFORM_SCANNER_ANAT);
  EXPECT_EQ(gq.sform_code, 0);
  EXPECT_EQ(gq.quatern_b, 0.5);
  EXPECT_EQ(gq.quatern_c, 0.5);
  EXPECT_EQ(gq.quatern_d, 0.5);
  EXPECT_EQ(gq.qoffset_x, 10.0);
  EXPECT_EQ(gq.qoffset_y, 20.0);
  EXPECT_EQ(gq.qoffset_z, 30.0);
  EXPECT_EQ(gq.qfac, 1.0);
  EXPECT_EQ(gq.pixdim, (std::array<double, 3>{2.0, 3.0, 4.0}));
  EXPECT_EQ(gq.orientation(), "ASR");
  const auto a = gq.affine();
  const double expected[3][4] = {{0, 0, 4, 10}, {2, 0, 0, 20}, {0, 3, 0, 30}};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(a[r][c], expected[r][c], 1e-6) << r << "," << c;
  }

  // sform only, LPS.
  NimPtr s = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  set_spacing(s.get(), 0.7, 0.7, 2.5);
  set_sform(s.get(), NIFTI_XFORM_ALIGNED_ANAT, {{{-0.7, 0, 0, 120}, {0, -0.7, 0.01, 130}, {0, 0, 2.5, -400}}});
  write_image(s.get(), file("sform.nii.gz"));
  const NiftiGeometry gs = read_nifti_geometry(file("sform.nii.gz"));
  EXPECT_EQ(gs.qform_code, 0);
  EXPECT_EQ(gs.sform_code, NIFTI_XFORM_ALIGNED_ANAT);
  EXPECT_EQ(gs.srow_x, (std::array<double, 4>{-0.7f, 0, 0, 120}));
  EXPECT_EQ(gs.srow_y, (std::array<double, 4>{0, -0.7f, 0.01f, 130}));
  EXPECT_EQ(gs.srow_z, (std::array<double, 4>{0, 0, 2.5, -400}));
  EXPECT_EQ(gs.orientation(), "LPS");

  // Both, disagreeing: both kept, and the sform decides the orientation (as in nifticlib and nibabel).
  write_ras_source(file("both_ras.nii"));
  const NiftiGeometry gb = read_nifti_geometry(file("both_ras.nii"));
  EXPECT_EQ(gb.qform_code, NIFTI_XFORM_SCANNER_ANAT);
  EXPECT_EQ(gb.sform_code, NIFTI_XFORM_ALIGNED_ANAT);
  EXPECT_EQ(gb.qoffset_x, -100.5);
  EXPECT_EQ(gb.srow_x[3], -99.5);
  EXPECT_EQ(gb.xyz_units, NIFTI_UNITS_MM);
  EXPECT_EQ(gb.time_units, NIFTI_UNITS_SEC);
  EXPECT_EQ(gb.orientation(), "RAS");
  NimPtr b = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  set_qform(b.get(), 0, 0, 0, 0, 0, 0, 1.0);
  set_sform(b.get(), NIFTI_XFORM_SCANNER_ANAT, {{{-1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}});
  write_image(b.get(), file("both_disagree.nii"));
  EXPECT_EQ(read_nifti_geometry(file("both_disagree.nii")).orientation(), "LAS");

  // Each survives a mask round trip unchanged.
  for (const char* name : {"qform.nii", "sform.nii.gz", "both_ras.nii"}) {
    SCOPED_TRACE(name);
    const NiftiGeometry g = read_nifti_geometry(file(name));
    write_nifti_mask(file(std::string("mask_") + name), g, std::vector<uint8_t>(60, 1));
    EXPECT_EQ(read_nifti_geometry(file(std::string("mask_") + name)), g);
    expect_same_geometry_fields(file(name), file(std::string("mask_") + name));
  }
}

TEST_F(Nifti, OrientationFollowsTheAffine) {
  NiftiGeometry g = make_nifti_geometry({3, 4, 5}, {1.0, 1.0, 2.0});
  EXPECT_EQ(g.orientation(), "RAS");
  g.srow_x[0] = -1.0;
  EXPECT_EQ(g.orientation(), "LAS");
  g.srow_y[1] = -1.0;
  EXPECT_EQ(g.orientation(), "LPS");
  g.srow_z[2] = -2.0;
  EXPECT_EQ(g.orientation(), "LPI");
  g.srow_x = {0, 0.8, 0, 0};  // j points right
  g.srow_y = {0, 0, 2.0, 0};  // k anterior
  g.srow_z = {0.8, 0, 0, 0};  // i superior
  EXPECT_EQ(g.orientation(), "SRA");
  g.srow_x = g.srow_y = g.srow_z = {0, 0, 0, 0};  // a broken sform: no direction at all
  EXPECT_EQ(g.orientation(), "???");

  // The qform when there is no sform: 180 degrees about z turns x and y; qfac -1 flips k.
  NiftiGeometry q = make_nifti_geometry({3, 4, 5}, {1.0, 1.0, 2.0});
  q.sform_code = 0;
  q.quatern_d = 1.0;
  EXPECT_EQ(q.orientation(), "LPS");
  q.qfac = -1.0;
  EXPECT_EQ(q.orientation(), "LPI");
  // Neither transform: NIfTI's method 1, the bare spacing.
  q.qform_code = 0;
  EXPECT_EQ(q.orientation(), "RAS");
}

TEST_F(Nifti, MaskReusesTheSourceGeometryExactly) {
  write_ras_source(file("ras.nii.gz"));
  write_las_source(file("las.nii"));
  for (const char* source : {"ras.nii.gz", "las.nii"}) {
    const NiftiVolume v = read_nifti(file(source));
    EXPECT_EQ(v.geometry.orientation(), std::string(source).substr(0, 3) == "ras" ? "RAS" : "LAS");
    std::vector<uint8_t> mask(static_cast<size_t>(v.geometry.voxel_count()));
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = static_cast<uint8_t>(i % 3);
    for (const char* ext : {".nii", ".nii.gz"}) {
      SCOPED_TRACE(std::string(source) + " -> mask" + ext);
      const std::string out = file(std::string("mask_of_") + source + ext);
      write_nifti_mask(out, v.geometry, mask);
      expect_same_geometry_fields(file(source), out);
      EXPECT_EQ(read_nifti_labels(out), mask);
      const NiftiVolume m = read_nifti(out);
      EXPECT_EQ(m.datatype, NiftiType::kUint8);
      EXPECT_EQ(m.geometry, v.geometry);
      EXPECT_EQ(m.geometry.orientation(), v.geometry.orientation());
    }
  }
}

TEST_F(Nifti, BadFilesAreNamedWithTheReason) {
  const std::string missing = file("absent.nii.gz");
  expect_contains(error_of([&] { read_nifti(missing); }), {missing.c_str(), "does not exist"});

  // Random bytes, both uncompressed and under a .gz name (zlib reads plain bytes through).
  for (const char* name : {"random.nii", "random.nii.gz", "tiny.nii"}) {
    const std::string path = file(name);
    std::ofstream out(path, std::ios::binary);
    uint32_t x = 12345;
    const int n = std::string(name) == "tiny.nii" ? 10 : 4000;
    for (int i = 0; i < n; ++i) {
      x = x * 1664525u + 1013904223u;
      out.put(static_cast<char>(x >> 24));
    }
    out.close();
    expect_contains(error_of([&] { read_nifti(path); }), {path.c_str(), "not a NIfTI file"});
  }

  const std::string wrong_name = file("volume.img");
  std::ofstream(wrong_name) << "x";
  expect_contains(error_of([&] { read_nifti(wrong_name); }), {wrong_name.c_str(), "neither a .nii nor a .nii.gz"});

  // Truncated: the header survives (the geometry still reads), the data does not.
  const NiftiGeometry g = make_nifti_geometry({10, 10, 10}, {1, 1, 1});
  const std::string cut = file("cut.nii");
  write_nifti_volume(cut, g, std::vector<float>(1000, 7.0f), NiftiType::kInt16);
  fs::resize_file(cut, fs::file_size(cut) - 100);
  EXPECT_EQ(read_nifti_geometry(cut), g);
  expect_contains(error_of([&] { read_nifti(cut); }), {cut.c_str(), "truncated", "2252 bytes", "2352"});
  expect_contains(error_of([&] { read_nifti_labels(cut); }), {cut.c_str(), "truncated"});
  const std::string cut_gz = file("cut.nii.gz");
  std::vector<float> noisy(1000);
  for (size_t i = 0; i < noisy.size(); ++i) noisy[i] = static_cast<float>((i * 7919) % 2001) - 1000.0f;
  write_nifti_volume(cut_gz, g, noisy, NiftiType::kInt16);
  fs::resize_file(cut_gz, fs::file_size(cut_gz) / 2);
  expect_contains(error_of([&] { read_nifti(cut_gz); }), {cut_gz.c_str(), "truncated or corrupt"});

  NimPtr four = new_image({3, 4, 5, 2}, NIFTI_TYPE_FLOAT32);
  write_image(four.get(), file("four.nii"));
  expect_contains(error_of([&] { read_nifti(file("four.nii")); }),
                  {file("four.nii").c_str(), "4D", "3 x 4 x 5 x 2", "expected a 3D volume"});
  // A fourth dim of 1 is still a 3D volume.
  NimPtr four_one = new_image({3, 4, 5, 1}, NIFTI_TYPE_FLOAT32);
  write_image(four_one.get(), file("four_one.nii"));
  EXPECT_EQ(read_nifti(file("four_one.nii")).values.size(), 60u);

  NimPtr two = new_image({4, 5}, NIFTI_TYPE_INT16);
  write_image(two.get(), file("two.nii.gz"));
  expect_contains(error_of([&] { read_nifti(file("two.nii.gz")); }),
                  {file("two.nii.gz").c_str(), "2D", "4 x 5", "expected a 3D volume"});

  for (int dt : {NIFTI_TYPE_COMPLEX64, NIFTI_TYPE_RGB24, NIFTI_TYPE_INT64}) {
    NimPtr odd = new_image({3, 4, 5}, dt);
    const std::string path = file("type_" + std::to_string(dt) + ".nii");
    write_image(odd.get(), path);
    expect_contains(error_of([&] { read_nifti(path); }),
                    {path.c_str(), nifti_datatype_string(dt), "not supported", "uint8, int8, int16"});
  }

  // No NIfTI magic: nifticlib would take it for ANALYZE 7.5, whose orientation is undefined.
  const std::string plain = file("plain.nii");
  write_nifti_volume(plain, g, std::vector<float>(1000, 0.0f), NiftiType::kUint8);
  {
    std::fstream f(plain, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(344);
    f.write("\0\0\0\0", 4);
  }
  expect_contains(error_of([&] { read_nifti(plain); }), {plain.c_str(), "lacks the NIfTI magic"});
}

// nifticlib, asked for x.nii.gz while x.nii exists, takes the voxels from x.nii; and asked for a
// missing x.nii, it reads x.nii.gz. Each name must mean its own file.
TEST_F(Nifti, EachNameReadsItsOwnFile) {
  const NiftiGeometry g = make_nifti_geometry({3, 4, 5}, {1, 1, 1});
  write_nifti_mask(file("twin.nii.gz"), g, std::vector<uint8_t>(60, 2));
  const std::string absent = file("twin.nii");
  expect_contains(error_of([&] { read_nifti(absent); }), {absent.c_str(), "does not exist"});
  write_nifti_mask(file("twin.nii"), g, std::vector<uint8_t>(60, 1));
  EXPECT_EQ(read_nifti_labels(file("twin.nii.gz")), std::vector<uint8_t>(60, 2));
  EXPECT_EQ(read_nifti(file("twin.nii.gz")).values, std::vector<float>(60, 2.0f));
  EXPECT_EQ(read_nifti_labels(file("twin.nii")), std::vector<uint8_t>(60, 1));
}

TEST_F(Nifti, LabelsMustBeIntegersInByteRange) {
  NimPtr nim = new_image({3, 4, 5}, NIFTI_TYPE_INT16);
  for (int64_t i = 0; i < nim->nvox; ++i) static_cast<int16_t*>(nim->data)[i] = static_cast<int16_t>(i % 4);
  write_image(nim.get(), file("labels.nii.gz"));
  const std::vector<uint8_t> labels = read_nifti_labels(file("labels.nii.gz"));
  ASSERT_EQ(labels.size(), 60u);
  for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(labels[i], i % 4) << i;

  NimPtr half = new_image({3, 4, 5}, NIFTI_TYPE_FLOAT32);
  static_cast<float*>(half->data)[1 + 3 * 2] = 0.5f;  // voxel (1, 2, 0)
  write_image(half.get(), file("half.nii"));
  expect_contains(error_of([&] { read_nifti_labels(file("half.nii")); }),
                  {file("half.nii").c_str(), "(1, 2, 0)", "label 0.5", "0..255"});

  static_cast<int16_t*>(nim->data)[59] = 256;  // voxel (2, 3, 4)
  write_image(nim.get(), file("big_label.nii"));
  expect_contains(error_of([&] { read_nifti_labels(file("big_label.nii")); }),
                  {file("big_label.nii").c_str(), "(2, 3, 4)", "label 256"});
  static_cast<int16_t*>(nim->data)[59] = -1;
  write_image(nim.get(), file("negative_label.nii"));
  expect_contains(error_of([&] { read_nifti_labels(file("negative_label.nii")); }), {"label -1"});
}

TEST_F(Nifti, FailedWritesLeaveNothingBehind) {
  const NiftiGeometry g = make_nifti_geometry({3, 4, 5}, {1, 1, 1});
  const std::vector<uint8_t> mask(60, 1);

  const std::string no_folder = file("no_such_folder/mask.nii.gz");
  expect_contains(error_of([&] { write_nifti_mask(no_folder, g, mask); }), {no_folder.c_str(), "does not exist"});

  expect_contains(error_of([&] { write_nifti_mask(file("short.nii"), g, std::vector<uint8_t>(59, 1)); }),
                  {"short.nii", "59 voxels", "3 x 4 x 5"});
  expect_contains(error_of([&] { write_nifti_mask(file("mask.img"), g, mask); }), {"mask.img", ".nii.gz"});

  std::vector<float> values(60, 0.0f);
  values[59] = 40000.0f;
  expect_contains(error_of([&] { write_nifti_volume(file("big.nii"), g, values, NiftiType::kInt16); }),
                  {"big.nii", "int16", "(2, 3, 4)", "40000", "-32768..32767"});
  values[59] = 1.5f;
  expect_contains(error_of([&] { write_nifti_volume(file("half.nii"), g, values, NiftiType::kUint8); }),
                  {"half.nii", "1.5"});
  EXPECT_TRUE(files_in_dir().empty());

  // The rename onto a folder fails after the temporary file is complete: it must be removed.
  fs::create_directories(dir_ / "taken.nii.gz" / "inside");
  expect_contains(error_of([&] { write_nifti_mask(file("taken.nii.gz"), g, mask); }),
                  {file("taken.nii.gz").c_str(), "cannot rename"});
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"taken.nii.gz"});

  // Successful writes leave exactly their targets, and overwrite what was there.
  write_nifti_mask(file("ok.nii"), g, mask);
  write_nifti_mask(file("ok.nii.gz"), g, mask);
  write_nifti_mask(file("ok.nii.gz"), g, std::vector<uint8_t>(60, 2));
  EXPECT_EQ(files_in_dir(), (std::vector<std::string>{"ok.nii", "ok.nii.gz", "taken.nii.gz"}));
  EXPECT_EQ(read_nifti_labels(file("ok.nii.gz")), std::vector<uint8_t>(60, 2));
}

}  // namespace
}  // namespace lits::testing
