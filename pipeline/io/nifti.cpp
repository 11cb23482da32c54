// NIfTI I/O on nifticlib's NIfTI-2 API (int64 dims; it reads NIfTI-1 and NIfTI-2, and writes NIfTI-1).
// nifticlib reports its own failures on stderr and answers with a null pointer or -1, so everything it
// would complain about is checked here first (file present, name, header, dims, datatype, file size),
// its debug output is silenced, and each failure becomes a lits::Error that names the file. The voxels
// are read here from the named file itself (see load_data), not by nifti_image_load.
#include "pipeline/io/nifti.h"

#include <fcntl.h>
#include <nifti2_io.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <type_traits>

#include "engine/error.h"

namespace lits {
namespace {

namespace fs = std::filesystem;

struct NimFree {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NimPtr = std::unique_ptr<nifti_image, NimFree>;

// nifticlib prints diagnostics at its default debug level 1; every failure it could report is
// reported here instead, with the path.
void silence_nifticlib() {
  static const bool silenced = (nifti_set_debug_level(0), true);
  (void)silenced;
}

constexpr NiftiType kSupported[] = {NiftiType::kUint8, NiftiType::kInt8,    NiftiType::kInt16,  NiftiType::kUint16,
                                    NiftiType::kInt32, NiftiType::kFloat32, NiftiType::kFloat64};

const char* supported_list() { return "uint8, int8, int16, uint16, int32, float32, float64"; }

bool is_supported(int datatype) {
  for (NiftiType t : kSupported) {
    if (static_cast<int>(t) == datatype) return true;
  }
  return false;
}

// Limits on what a header may claim, checked before any size is used (docs/robustness.md): a CT of
// 512 x 512 x 1000 is 2.6e8 voxels; these leave room for far larger ones.
constexpr int64_t kMaxDim = int64_t{1} << 16;        // voxels along one axis
constexpr int64_t kMaxVoxels = int64_t{1} << 31;     // per volume (8 GiB as float)
constexpr int64_t kMaxVoxOffset = int64_t{1} << 30;  // header and extensions, bytes
constexpr int64_t kReadChunk = int64_t{64} << 20;    // compressed data is read in pieces of this size

// The bytes per voxel of a supported datatype (the header's bitpix must agree).
int64_t bytes_of(int datatype) {
  switch (static_cast<NiftiType>(datatype)) {
    case NiftiType::kUint8:
    case NiftiType::kInt8: return 1;
    case NiftiType::kInt16:
    case NiftiType::kUint16: return 2;
    case NiftiType::kInt32:
    case NiftiType::kFloat32: return 4;
    case NiftiType::kFloat64: return 8;
  }
  return 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ".nii.gz", ".nii" or "" (not a name read or written here), in any letter case (Volume-12.NII.GZ).
std::string nifti_extension(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ends_with(name, ".nii.gz")) return ".nii.gz";
  if (ends_with(name, ".nii")) return ".nii";
  return "";
}

// The shortest text that reads back as `v` (0.5, not 0.50000000000000000).
std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string voxel_text(int64_t index, const std::array<int64_t, 3>& dims) {
  std::ostringstream s;
  if (dims[0] < 1 || dims[1] < 1) {
    s << index;  // dims not yet checked: the flat index is all there is
    return s.str();
  }
  s << "(" << index % dims[0] << ", " << (index / dims[0]) % dims[1] << ", " << index / (dims[0] * dims[1]) << ")";
  return s.str();
}

std::string dims_text(const nifti_image* nim) {
  std::ostringstream s;
  for (int64_t d = 1; d <= nim->dim[0] && d <= 7; ++d) s << (d > 1 ? " x " : "") << nim->dim[d];
  return s.str();
}

// Runs f(const T* raw, n) with the voxel data typed as stored.
template <typename F>
void visit_raw(const nifti_image* nim, F&& f) {
  const void* p = nim->data;
  const int64_t n = nim->nvox;
  switch (static_cast<NiftiType>(nim->datatype)) {
    case NiftiType::kUint8: f(static_cast<const uint8_t*>(p), n); return;
    case NiftiType::kInt8: f(static_cast<const int8_t*>(p), n); return;
    case NiftiType::kInt16: f(static_cast<const int16_t*>(p), n); return;
    case NiftiType::kUint16: f(static_cast<const uint16_t*>(p), n); return;
    case NiftiType::kInt32: f(static_cast<const int32_t*>(p), n); return;
    case NiftiType::kFloat32: f(static_cast<const float*>(p), n); return;
    case NiftiType::kFloat64: f(static_cast<const double*>(p), n); return;
  }
  LITS_THROW("NIfTI datatype code " << nim->datatype << " reached the voxel reader; expected one of "
                                    << supported_list());
}

// The fields nifticlib repairs without a word, as the header states them: it reads a dim of 0 or less
// as 1, a vox_offset below the header's end (or NaN, or beyond an int) as the header's end, and a
// spacing that is not a finite number as 1, so a corrupt header would read as another volume. Checked
// only when the header is in this machine's byte order (a swapped one is left to the checks below),
// except dim[0]: nifticlib indexes its dim arrays with it, and one beyond 7 makes it write past them.
template <typename T>
T byte_swapped(T v) {
  T out;
  const auto* in = reinterpret_cast<const unsigned char*>(&v);
  auto* o = reinterpret_cast<unsigned char*>(&out);
  for (size_t i = 0; i < sizeof(T); ++i) o[i] = in[sizeof(T) - 1 - i];
  return out;
}
template <typename Header>
void check_raw_header(const Header& h, int size, const std::string& path) {
  const bool native = h.sizeof_hdr == size, swapped = byte_swapped(h.sizeof_hdr) == size;
  if (!native && !swapped) return;  // not a header nifticlib would read
  const auto ndim = static_cast<int64_t>(native ? h.dim[0] : byte_swapped(h.dim[0]));
  if (ndim < 1 || ndim > 7) {
    LITS_THROW("'" << path << "' is not a NIfTI file: its header has dim[0] = " << ndim
                   << " (the number of dims; expected 1 to 7)");
  }
  if (!native) return;
  for (int d = 1; d <= h.dim[0]; ++d) {
    if (h.dim[d] < 1)
      LITS_THROW("NIfTI file '" << path << "' has dim[" << d << "] = " << h.dim[d]
                                << " in its header; expected each dim >= 1");
  }
  if (!is_supported(h.datatype)) {
    LITS_THROW("NIfTI file '" << path << "' has datatype " << nifti_datatype_string(h.datatype) << " (code "
                              << h.datatype << "), which is not supported; expected one of " << supported_list());
  }
  if (!(h.vox_offset >= 0 && h.vox_offset <= static_cast<double>(kMaxVoxOffset)))
    LITS_THROW("NIfTI file '" << path << "' has vox_offset " << h.vox_offset << "; expected 0 to " << kMaxVoxOffset
                              << " bytes");
  for (int d = 1; d <= 3; ++d) {
    if (!std::isfinite(static_cast<double>(h.pixdim[d])))
      LITS_THROW("NIfTI file '" << path << "' has pixdim[" << d << "] = " << h.pixdim[d]
                                << "; expected finite numbers for the voxel spacing");
  }
}

// A file too short for the header its first bytes announce is refused here: nifticlib would print its
// own error line to stderr before failing. gzread reads a plain file as it is.
void check_header_length(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) LITS_THROW("cannot open NIfTI file '" << path << "': " << std::strerror(errno));
  unsigned char head[540];
  const int got = gzread(f, head, sizeof(head));
  int zerr = Z_OK;
  const std::string why = got < 0 ? gzerror(f, &zerr) : "";
  gzclose(f);
  if (got < 0) LITS_THROW("'" << path << "' is not a readable NIfTI file: its gzip stream is corrupt (" << why << ")");
  int32_t size = 0;
  if (got >= 4) std::memcpy(&size, head, 4);
  const int need = size == 540 || byte_swapped(size) == 540 ? 540 : 348;
  if (got < need) {
    LITS_THROW("'" << path << "' is not a NIfTI file: " << std::max(got, 0) << (got == 1 ? " byte" : " bytes")
                   << (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0 ? " (decompressed)" : "")
                   << " are too few for a NIfTI-" << (need == 540 ? 2 : 1) << " header of " << need);
  }
}

// The header of `path`, checked so that loading its data can only fail on the data itself.
NimPtr read_checked_header(const std::string& path) {
  silence_nifticlib();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (fs::is_symlink(fs::symlink_status(path, ec)))
      LITS_THROW("NIfTI file '" << path << "' is a symbolic link that leads to no file (dangling, or a loop)");
    LITS_THROW("NIfTI file '" << path << "' does not exist");
  }
  if (!fs::is_regular_file(path, ec))
    LITS_THROW("NIfTI file '" << path << "' is not a regular file; expected a .nii or .nii.gz file");
  if (nifti_extension(path).empty())
    LITS_THROW("NIfTI file '" << path << "' has neither a .nii nor a .nii.gz extension");
  // The raw header first: nifticlib's image reader takes a .nii without the NIfTI magic for ANALYZE
  // 7.5 and drops its orientation without a word. Unchecked (0), because the check prints to stderr for
  // every big-endian file, which nifti_image_read then reads correctly.
  check_header_length(path);
  int version = -1;
  void* raw = nifti_read_header(path.c_str(), &version, 0);
  if (raw != nullptr) {
    const std::unique_ptr<void, decltype(&std::free)> owned(raw, &std::free);
    if (version == 1) check_raw_header(*static_cast<const nifti_1_header*>(raw), 348, path);
    if (version == 2) check_raw_header(*static_cast<const nifti_2_header*>(raw), 540, path);
  }
  if (raw == nullptr) {
    LITS_THROW("'" << path << "' is not a NIfTI file: no valid NIfTI-1 or NIfTI-2 header could be read from its "
                   << fs::file_size(path, ec) << " bytes");
  }
  if (version != 1 && version != 2)
    LITS_THROW("'" << path << "' is not a NIfTI file: its header lacks the NIfTI magic (an ANALYZE 7.5 header?)");
  NimPtr nim(nifti_image_read(path.c_str(), 0));
  if (!nim) LITS_THROW("'" << path << "' is not a NIfTI file: nifticlib cannot read its header");
  if (nim->nifti_type != NIFTI_FTYPE_NIFTI1_1 && nim->nifti_type != NIFTI_FTYPE_NIFTI2_1)
    LITS_THROW("'" << path << "' is not a single-file NIfTI image (nifti_type " << nim->nifti_type << ")");
  if (nim->fname == nullptr || path != nim->fname)
    LITS_THROW("nifticlib read the header of '" << (nim->fname ? nim->fname : "?") << "' when asked for '" << path
                                                << "'");
  const int64_t ndim = nim->dim[0];
  if (ndim < 3)
    LITS_THROW("NIfTI file '" << path << "' is " << ndim << "D (dims " << dims_text(nim.get())
                              << "); expected a 3D volume");
  for (int64_t d = 4; d <= ndim && d <= 7; ++d) {
    if (nim->dim[d] != 1) {
      LITS_THROW("NIfTI file '" << path << "' is " << ndim << "D (dims " << dims_text(nim.get())
                                << "); expected a 3D volume (dims beyond the third must be 1)");
    }
  }
  if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1)
    LITS_THROW("NIfTI file '" << path << "' has dims " << dims_text(nim.get()) << "; expected each dim >= 1");
  if (nim->nx > kMaxDim || nim->ny > kMaxDim || nim->nz > kMaxDim)
    LITS_THROW("NIfTI file '" << path << "' has dims " << dims_text(nim.get()) << "; each dim may be at most "
                              << kMaxDim);
  // nifticlib's own voxel count is a plain product that can wrap; this one cannot (each factor <= 2^16).
  const int64_t voxels = nim->nx * nim->ny * nim->nz;
  if (voxels > kMaxVoxels)
    LITS_THROW("NIfTI file '" << path << "' has dims " << dims_text(nim.get()) << ", " << voxels
                              << " voxels; a volume may have at most " << kMaxVoxels);
  if (nim->nvox != voxels)
    LITS_THROW("NIfTI file '" << path << "' has dims " << dims_text(nim.get()) << " but a voxel count of " << nim->nvox
                              << "; the header is corrupt");
  if (!is_supported(nim->datatype)) {
    LITS_THROW("NIfTI file '" << path << "' has datatype " << nifti_datatype_string(nim->datatype) << " (code "
                              << nim->datatype << "), which is not supported; expected one of " << supported_list());
  }
  if (nim->nbyper != bytes_of(nim->datatype))
    LITS_THROW("NIfTI file '" << path << "' has " << nim->nbyper << " bytes per voxel for datatype "
                              << nifti_datatype_string(nim->datatype) << "; expected " << bytes_of(nim->datatype));
  if (nim->iname_offset < 0 || nim->iname_offset > kMaxVoxOffset)
    LITS_THROW("NIfTI file '" << path << "' has vox_offset " << nim->iname_offset << "; expected 0 to " << kMaxVoxOffset
                              << " bytes");
  for (const double d : {nim->dx, nim->dy, nim->dz})
    if (!std::isfinite(d))
      LITS_THROW("NIfTI file '" << path << "' has a voxel spacing (pixdim) of " << d << "; expected finite numbers");
  return nim;
}

// Loads the voxel data of a checked header (whose sizes are bounded: no product below can overflow).
void load_data(nifti_image* nim, const std::string& path) {
  const int64_t data_bytes = nim->nvox * nim->nbyper;
  const bool compressed = nifti_extension(path) == ".nii.gz";
  if (!compressed) {
    // nifticlib would allocate for the header's claim first and only then find the file short.
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    const int64_t needed = nim->iname_offset + data_bytes;
    if (ec || size < needed) {
      LITS_THROW("NIfTI file '" << path << "' is truncated: it has " << size << " bytes but its header needs " << needed
                                << " (data offset " << nim->iname_offset << " + " << nim->nvox << " voxels x "
                                << nim->nbyper << " bytes)");
    }
  }
  // Read here rather than by nifti_image_load, which looks the data file up again by name: asked for
  // x.nii.gz while x.nii exists, it takes the voxels from x.nii.
  znzFile fp = znzopen(path.c_str(), "rb", nifti_is_gzfile(path.c_str()));
  if (znz_isnull(fp)) LITS_THROW("cannot open NIfTI file '" << path << "': " << std::strerror(errno));
  // A compressed file's size says nothing about its data: the buffer grows as the stream delivers, in
  // chunks, so a header that claims more than the stream holds costs at most one chunk.
  int64_t have = 0, capacity = 0;
  bool ok = znzseek(fp, static_cast<znz_off_t>(nim->iname_offset), SEEK_SET) >= 0;
  while (ok && have < data_bytes) {
    const int64_t chunk = std::min(data_bytes - have, compressed ? kReadChunk : data_bytes);
    if (have + chunk > capacity) {
      capacity = compressed ? std::min(data_bytes, std::max(have + chunk, 2 * capacity)) : data_bytes;
      void* grown = std::realloc(nim->data, static_cast<size_t>(capacity));
      if (grown == nullptr) {
        znzclose(fp);
        LITS_THROW("out of memory reading NIfTI file '" << path << "' (" << data_bytes << " bytes of voxels)");
      }
      nim->data = grown;
    }
    // nifti_read_buffer swaps the bytes of big-endian files (chunks are whole voxels).
    ok = nifti_read_buffer(fp, static_cast<char*>(nim->data) + have, chunk, nim) == chunk;
    have += ok ? chunk : 0;
  }
  znzclose(fp);
  if (!ok) {
    LITS_THROW("NIfTI file '" << path << "' is truncated or corrupt: its data did not yield the " << nim->nvox
                              << " voxels x " << nim->nbyper << " bytes its header announces");
  }
  if (nim->data == nullptr) nim->data = std::malloc(1);  // no voxels: a valid pointer all the same
}

NiftiGeometry geometry_of(const nifti_image* nim) {
  NiftiGeometry g;
  g.dims = {nim->nx, nim->ny, nim->nz};
  g.pixdim = {nim->dx, nim->dy, nim->dz};
  g.qform_code = nim->qform_code;
  g.sform_code = nim->sform_code;
  // An unset transform's fields carry no meaning; zero them so that equal geometries compare equal.
  if (g.qform_code > 0) {
    g.quatern_b = nim->quatern_b;
    g.quatern_c = nim->quatern_c;
    g.quatern_d = nim->quatern_d;
    g.qoffset_x = nim->qoffset_x;
    g.qoffset_y = nim->qoffset_y;
    g.qoffset_z = nim->qoffset_z;
    g.qfac = nim->qfac < 0.0 ? -1.0 : 1.0;
  }
  if (g.sform_code > 0) {
    for (int c = 0; c < 4; ++c) {
      g.srow_x[c] = nim->sto_xyz.m[0][c];
      g.srow_y[c] = nim->sto_xyz.m[1][c];
      g.srow_z[c] = nim->sto_xyz.m[2][c];
    }
  }
  g.xyz_units = nim->xyz_units;
  g.time_units = nim->time_units;
  return g;
}

nifti_dmat44 dmat44_of(const std::array<std::array<double, 4>, 3>& rows) {
  nifti_dmat44 m{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) m.m[r][c] = rows[r][c];
  }
  m.m[3][3] = 1.0;
  return m;
}

// Converts float values to T, every one exactly (integers in range for integer types).
template <typename T>
std::vector<T> converted(const std::vector<float>& values, const std::string& path, const NiftiGeometry& g,
                         NiftiType type) {
  std::vector<T> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if constexpr (std::is_integral_v<T>) {
      if (!(std::trunc(v) == v && v >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
            v <= static_cast<double>(std::numeric_limits<T>::max()))) {
        LITS_THROW("writing NIfTI file '" << path << "' as " << nifti_type_name(type) << ": voxel "
                                          << voxel_text(static_cast<int64_t>(i), g.dims) << " has value "
                                          << number_text(v) << ", which is not an integer in "
                                          << +std::numeric_limits<T>::lowest() << ".."
                                          << +std::numeric_limits<T>::max());
      }
    }
    out[i] = static_cast<T>(v);
  }
  return out;
}

std::atomic<int64_t> g_temp_counter{0};

// Writes `data` (voxel_count values of `type`) with `geometry` to `path` through a temporary file in the
// same folder. The temporary name keeps the extension, because nifticlib compresses by the name.
void write_image(const std::string& path, const NiftiGeometry& geometry, NiftiType type, const void* data,
                 int64_t voxel_count, const char* description, double scl_slope = 1.0) {
  silence_nifticlib();
  const std::string ext = nifti_extension(path);
  if (ext.empty()) LITS_THROW("NIfTI output '" << path << "' must end in .nii or .nii.gz");
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  // Checked here because nifticlib would print its own complaint on stderr.
  if (!fs::is_directory(folder, ec))
    LITS_THROW("cannot write NIfTI file '" << path << "': the folder '" << folder.string() << "' does not exist");
  for (int a = 0; a < 3; ++a) {
    LITS_CHECK(geometry.dims[a] >= 1, "NIfTI output '" << path << "': geometry dims " << geometry.dims[0] << " x "
                                                       << geometry.dims[1] << " x " << geometry.dims[2]
                                                       << " must all be >= 1");
  }
  LITS_CHECK(voxel_count == geometry.voxel_count(),
             "NIfTI output '" << path << "': " << voxel_count << " voxels given for dims " << geometry.dims[0] << " x "
                              << geometry.dims[1] << " x " << geometry.dims[2] << " (" << geometry.voxel_count()
                              << " voxels)");

  const int64_t dims[8] = {3, geometry.dims[0], geometry.dims[1], geometry.dims[2], 1, 1, 1, 1};
  NimPtr nim(nifti_make_new_nim(dims, static_cast<int>(type), 0));
  LITS_CHECK(nim != nullptr, "nifticlib could not create a header for '" << path << "'");
  // nifticlib's writer takes the spacing from dx/dy/dz and the qform from the quaternion fields.
  nim->dx = nim->pixdim[1] = geometry.pixdim[0];
  nim->dy = nim->pixdim[2] = geometry.pixdim[1];
  nim->dz = nim->pixdim[3] = geometry.pixdim[2];
  nim->qform_code = geometry.qform_code;
  nim->sform_code = geometry.sform_code;
  nim->quatern_b = geometry.quatern_b;
  nim->quatern_c = geometry.quatern_c;
  nim->quatern_d = geometry.quatern_d;
  nim->qoffset_x = geometry.qoffset_x;
  nim->qoffset_y = geometry.qoffset_y;
  nim->qoffset_z = geometry.qoffset_z;
  nim->qfac = nim->pixdim[0] = geometry.qfac < 0.0 ? -1.0 : 1.0;
  nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d, nim->qoffset_x, nim->qoffset_y,
                                         nim->qoffset_z, nim->dx, nim->dy, nim->dz, nim->qfac);
  nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
  if (geometry.sform_code > 0) {
    nim->sto_xyz = dmat44_of({geometry.srow_x, geometry.srow_y, geometry.srow_z});
    nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
  }
  nim->xyz_units = geometry.xyz_units;
  nim->time_units = geometry.time_units;
  nim->scl_slope = static_cast<float>(scl_slope);
  nim->scl_inter = 0.0;
  std::strncpy(nim->descrip, description, sizeof(nim->descrip) - 1);

  const std::string base = target.filename().string();
  const std::string temp_name = base.substr(0, base.size() - ext.size()) + ".tmp" + std::to_string(::getpid()) + "_" +
                                std::to_string(g_temp_counter++) + ext;
  const std::string temp = (folder / temp_name).string();
  try {
    if (nifti_set_filenames(nim.get(), temp.c_str(), 0, 1) != 0)
      LITS_THROW("nifticlib refused the file name '" << temp << "' while writing '" << path << "'");
    // The data is borrowed, never copied: a mask can be hundreds of MB. nifti_image_free must not free it.
    struct Borrow {
      nifti_image* nim;
      ~Borrow() { nim->data = nullptr; }
    } borrow{nim.get()};
    nim->data = const_cast<void*>(data);
    errno = 0;
    // 1 = write the data, 2 = leave the file open: closing it here is what reports a failed flush.
    znzFile fp = nifti_image_write_hdr_img(nim.get(), 3, "wb");
    if (znz_isnull(fp))
      LITS_THROW("cannot create '" << temp << "' to write NIfTI file '" << path << "': " << std::strerror(errno));
    if (Xznzclose(&fp) != 0)
      LITS_THROW("writing NIfTI file '" << path << "' failed while closing '" << temp << "' (disk full?)");
    if (ext == ".nii") {
      const int64_t expected = nim->iname_offset + voxel_count * nim->nbyper;
      const auto size = static_cast<int64_t>(fs::file_size(temp, ec));
      if (ec || size != expected) {
        LITS_THROW("writing NIfTI file '" << path << "' failed: '" << temp << "' has " << size << " bytes, expected "
                                          << expected << " (disk full?)");
      }
    }
    // Flushed before the rename so that a crash cannot leave an empty file under the final name.
    const int fd = ::open(temp.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      LITS_THROW("writing NIfTI file '" << path << "': cannot flush '" << temp << "': " << std::strerror(err));
    }
    ::close(fd);
    fs::rename(temp, target, ec);
    if (ec) LITS_THROW("cannot rename '" << temp << "' to NIfTI file '" << path << "': " << ec.message());
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
}

}  // namespace

const char* nifti_type_name(NiftiType type) {
  switch (type) {
    case NiftiType::kUint8: return "uint8";
    case NiftiType::kInt8: return "int8";
    case NiftiType::kInt16: return "int16";
    case NiftiType::kUint16: return "uint16";
    case NiftiType::kInt32: return "int32";
    case NiftiType::kFloat32: return "float32";
    case NiftiType::kFloat64: return "float64";
  }
  return "unknown";
}

std::array<std::array<double, 4>, 3> NiftiGeometry::affine() const {
  if (sform_code > 0) return {srow_x, srow_y, srow_z};
  std::array<std::array<double, 4>, 3> rows{};
  if (qform_code > 0) {
    const nifti_dmat44 q = nifti_quatern_to_dmat44(quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z,
                                                   pixdim[0], pixdim[1], pixdim[2], qfac);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 4; ++c) rows[r][c] = q.m[r][c];
    }
    return rows;
  }
  for (int a = 0; a < 3; ++a) rows[a][a] = pixdim[a];
  return rows;
}

std::string NiftiGeometry::orientation() const {
  int codes[3] = {0, 0, 0};
  nifti_dmat44_to_orientation(dmat44_of(affine()), &codes[0], &codes[1], &codes[2]);
  // NIFTI_L2R means "runs from left to right", i.e. the axis points to the Right.
  std::string out;
  for (int code : codes) {
    switch (code) {
      case NIFTI_L2R: out += 'R'; break;
      case NIFTI_R2L: out += 'L'; break;
      case NIFTI_P2A: out += 'A'; break;
      case NIFTI_A2P: out += 'P'; break;
      case NIFTI_I2S: out += 'S'; break;
      case NIFTI_S2I: out += 'I'; break;
      default: out += '?'; break;
    }
  }
  return out;
}

NiftiGeometry make_nifti_geometry(const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing) {
  NiftiGeometry g;
  g.dims = dims;
  g.pixdim = spacing;
  g.qform_code = NIFTI_XFORM_SCANNER_ANAT;
  g.sform_code = NIFTI_XFORM_SCANNER_ANAT;
  g.srow_x = {spacing[0], 0.0, 0.0, 0.0};
  g.srow_y = {0.0, spacing[1], 0.0, 0.0};
  g.srow_z = {0.0, 0.0, spacing[2], 0.0};
  g.xyz_units = NIFTI_UNITS_MM;
  return g;
}

NiftiGeometry read_nifti_geometry(const std::string& path) { return geometry_of(read_checked_header(path).get()); }

NiftiVolume read_nifti(const std::string& path) {
  NimPtr nim = read_checked_header(path);
  load_data(nim.get(), path);
  NiftiVolume v;
  v.geometry = geometry_of(nim.get());
  v.datatype = static_cast<NiftiType>(nim->datatype);
  v.scl_slope = nim->scl_slope;
  v.scl_inter = nim->scl_inter;
  v.values.resize(static_cast<size_t>(nim->nvox));
  float* out = v.values.data();
  const double slope = nim->scl_slope, inter = nim->scl_inter;
  visit_raw(nim.get(), [&](const auto* raw, int64_t n) {
    if (slope != 0.0) {
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(raw[i]) * slope + inter);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(raw[i]);
    }
  });
  return v;
}

std::vector<uint8_t> read_nifti_labels(const std::string& path) {
  NimPtr nim = read_checked_header(path);
  load_data(nim.get(), path);
  const std::array<int64_t, 3> dims{nim->nx, nim->ny, nim->nz};
  std::vector<uint8_t> labels(static_cast<size_t>(nim->nvox));
  const double slope = nim->scl_slope != 0.0 ? nim->scl_slope : 1.0;
  const double inter = nim->scl_slope != 0.0 ? nim->scl_inter : 0.0;
  visit_raw(nim.get(), [&](const auto* raw, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(raw[i]) * slope + inter;
      // Written as a negation so that NaN fails too.
      if (!(v >= 0.0 && v <= 255.0 && std::trunc(v) == v)) {
        LITS_THROW("segmentation '" << path << "': voxel " << voxel_text(i, dims) << " has label " << number_text(v)
                                    << "; expected integer labels in 0..255");
      }
      labels[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    }
  });
  return labels;
}

void write_nifti_mask(const std::string& path, const NiftiGeometry& geometry, const std::vector<uint8_t>& voxels) {
  write_image(path, geometry, NiftiType::kUint8, voxels.data(), static_cast<int64_t>(voxels.size()),
              "lits-engine mask");
}

void write_nifti_probability(const std::string& path, const NiftiGeometry& geometry,
                             const std::vector<uint16_t>& values) {
  write_image(path, geometry, NiftiType::kUint16, values.data(), static_cast<int64_t>(values.size()),
              "lits-engine probability", 1.0 / 65535.0);
}

void write_nifti_volume(const std::string& path, const NiftiGeometry& geometry, const std::vector<float>& values,
                        NiftiType datatype) {
  const auto n = static_cast<int64_t>(values.size());
  const char* what = "lits-engine volume";
  switch (datatype) {
    case NiftiType::kUint8:
      write_image(path, geometry, datatype, converted<uint8_t>(values, path, geometry, datatype).data(), n, what);
      return;
    case NiftiType::kInt8:
      write_image(path, geometry, datatype, converted<int8_t>(values, path, geometry, datatype).data(), n, what);
      return;
    case NiftiType::kInt16:
      write_image(path, geometry, datatype, converted<int16_t>(values, path, geometry, datatype).data(), n, what);
      return;
    case NiftiType::kUint16:
      write_image(path, geometry, datatype, converted<uint16_t>(values, path, geometry, datatype).data(), n, what);
      return;
    case NiftiType::kInt32:
      write_image(path, geometry, datatype, converted<int32_t>(values, path, geometry, datatype).data(), n, what);
      return;
    case NiftiType::kFloat32: write_image(path, geometry, datatype, values.data(), n, what); return;
    case NiftiType::kFloat64:
      write_image(path, geometry, datatype, converted<double>(values, path, geometry, datatype).data(), n, what);
      return;
  }
  LITS_THROW("writing NIfTI file '" << path << "': datatype code " << static_cast<int>(datatype)
                                    << " is not supported; expected one of " << supported_list());
}

int remove_stale_nifti_temporaries(const std::string& folder) {
  int removed = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(folder, ec)) {
    // NAME.tmpPID_N.nii or NAME.tmpPID_N.nii.gz, as write_nifti_file names them.
    std::string name = f.path().filename().string();
    for (const char* ext : {".nii.gz", ".nii"}) {
      const std::string e = ext;
      if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) {
        name.resize(name.size() - e.size());
        break;
      }
    }
    const size_t at = name.rfind(".tmp"), under = name.rfind('_');
    if (at == std::string::npos || under == std::string::npos || under < at + 5 || under + 1 == name.size()) continue;
    const std::string pid_text = name.substr(at + 4, under - at - 4), counter = name.substr(under + 1);
    const auto digits = [](const std::string& t) {
      return !t.empty() && t.size() < 10 &&
             std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!digits(pid_text) || !digits(counter) || !f.is_regular_file(ec)) continue;
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may be running
    if (fs::remove(f.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace lits
