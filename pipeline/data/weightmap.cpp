// Weightmaps of the reference's conversion scripts. Morphology and distance transform are separable and
// run one axis at a time: box morphology as a sliding window count (O(1) per element for any box, many
// neighbouring lines at once on the strided axes so the loops run over contiguous bytes), the squared
// Euclidean distance as a scan each way along the columns, then the lower envelope of parabolas
// (Felzenszwalb & Huttenlocher) along rows and slices, which is exact on integer squared distances.
#include "pipeline/data/weightmap.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "engine/error.h"
#include "kernels/parallel.h"

namespace lits {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per-thread buffers for one line, grown to the longest line seen and kept across calls.
struct LineScratch {
  std::vector<double> f;   // the line's values
  std::vector<double> z;   // envelope: boundaries between parabolas
  std::vector<int64_t> v;  // envelope: positions of the parabolas' vertices
};

LineScratch& line_scratch(int64_t n) {
  thread_local LineScratch s;
  const size_t need = static_cast<size_t>(n) + 1;
  if (s.f.size() < need) {
    s.f.resize(need);
    s.z.resize(need);
    s.v.resize(need);
  }
  return s;
}

int64_t element_count(const VolumeDims& dims) { return dims[0] * dims[1] * dims[2]; }

std::string dims_text(const VolumeDims& dims) {
  std::ostringstream s;
  s << "[" << dims[0] << ", " << dims[1] << ", " << dims[2] << "]";
  return s.str();
}

void check_dims(const char* what, size_t size, const VolumeDims& dims) {
  LITS_CHECK(dims[0] >= 1 && dims[1] >= 1 && dims[2] >= 1,
             what << ": volume dims " << dims_text(dims) << " must all be >= 1");
  LITS_CHECK(static_cast<int64_t>(size) == element_count(dims),
             what << " has " << size << " elements but dims " << dims_text(dims) << " need " << element_count(dims));
}

// The position of a flat index in words, for error messages.
std::string where(int64_t index, const VolumeDims& dims) {
  std::ostringstream s;
  s << "slice " << index / (dims[1] * dims[2]) << ", row " << index / dims[2] % dims[1] << ", column "
    << index % dims[2] << " (index " << index << ")";
  return s.str();
}

void check_mask(const char* what, const std::vector<uint8_t>& mask, const VolumeDims& dims) {
  check_dims(what, mask.size(), dims);
  const auto bad = std::find_if(mask.begin(), mask.end(), [](uint8_t m) { return m > 1; });
  if (bad != mask.end()) {
    LITS_THROW(what << ": value " << int{*bad} << " at " << where(bad - mask.begin(), dims)
                    << "; a binary mask holds only 0 and 1");
  }
}

void check_box(const char* what, const std::array<int, 3>& box) {
  LITS_CHECK(box[0] >= 1 && box[1] >= 1 && box[2] >= 1,
             what << ": box sizes [" << box[0] << ", " << box[1] << ", " << box[2] << "] must all be >= 1");
}

template <typename T>
std::vector<T>& tile_scratch(size_t size) {
  thread_local std::vector<T> tile;
  if (tile.size() < size) tile.resize(size);
  return tile;
}

// Lines of a strided axis are handled this many at a time: neighbouring lines are neighbours in memory.
constexpr int64_t kTileLines = 64;

// Runs f(line, n) on every line of the volume along the slice (0) or row (1) axis, in parallel (lines never
// overlap), each line made contiguous: tiles of kTileLines neighbouring lines are copied into a per-thread
// buffer and back. Walking one such line alone would read a cache line per element, and with a
// power-of-two slice size every element of it would fall into the same cache set.
template <typename T, typename F>
void for_each_strided_line(T* data, const VolumeDims& dims, int axis, F&& f) {
  const int64_t n = dims[axis];
  const int64_t stride = axis == 1 ? dims[2] : dims[1] * dims[2];
  const int64_t outer = element_count(dims) / (n * stride);
  const int64_t tiles = (stride + kTileLines - 1) / kTileLines;
  // One cache line more than a line per tile row, so that a power-of-two n does not put the elements the
  // gather writes together (one per tile row) into a single cache set.
  const int64_t pitch = n + 64 / static_cast<int64_t>(sizeof(T));
  kernels::parallel_for(
      outer * tiles,
      [&](int64_t t) {
        const int64_t first = (t % tiles) * kTileLines, width = std::min(kTileLines, stride - first);
        T* base = data + (t / tiles) * n * stride + first;
        T* tile = tile_scratch<T>(static_cast<size_t>(pitch * kTileLines)).data();
        for (int64_t q = 0; q < n; ++q)
          for (int64_t b = 0; b < width; ++b) tile[b * pitch + q] = base[q * stride + b];
        for (int64_t b = 0; b < width; ++b) f(tile + b * pitch, n);
        for (int64_t q = 0; q < n; ++q)
          for (int64_t b = 0; b < width; ++b) base[q * stride + b] = tile[b * pitch + q];
      },
      std::max<int64_t>(1, kernels::kParallelGrain / (n * kTileLines)));
}

// Box morphology along one axis, from `in` to `out`, seen as [outer][n][inner]: `width` neighbouring lines
// (consecutive inner indices) slide one window together, so the inner loops run over contiguous memory.
// Erosion keeps x when the window [x + lo, x + hi] lies inside the line and is all set (border value 0);
// dilation sets x when any element of the window inside the line is set. count: [width] scratch. The
// pointers never overlap; saying so (__restrict) lets the compiler vectorise the byte loops, which it may
// not otherwise because a uint8_t store may alias anything.
void box_lines(const uint8_t* __restrict in, uint8_t* __restrict out, int64_t n, int64_t step, int64_t width,
               int64_t lo, int64_t hi, bool erode, int32_t* __restrict count) {
  std::fill(count, count + width, 0);
  for (int64_t y = 0; y <= std::min(hi, n - 1); ++y) {
    for (int64_t j = 0; j < width; ++j) count[j] += in[y * step + j];
  }
  const int32_t full = static_cast<int32_t>(hi - lo + 1);
  for (int64_t x = 0; x < n; ++x) {
    uint8_t* __restrict o = out + x * step;
    if (!erode) {
      for (int64_t j = 0; j < width; ++j) o[j] = count[j] > 0;
    } else if (x + lo >= 0 && x + hi < n) {
      for (int64_t j = 0; j < width; ++j) o[j] = count[j] == full;
    } else {
      std::fill(o, o + width, uint8_t{0});
    }
    if (x + 1 + hi < n) {
      const uint8_t* enter = in + (x + 1 + hi) * step;
      for (int64_t j = 0; j < width; ++j) count[j] += enter[j];
    }
    if (x + lo >= 0) {
      const uint8_t* leave = in + (x + lo) * step;
      for (int64_t j = 0; j < width; ++j) count[j] -= leave[j];
    }
  }
}

// The column axis, one contiguous line at a time: the same window as box_lines with a scalar count.
void box_row(const uint8_t* __restrict in, uint8_t* __restrict out, int64_t n, int64_t lo, int64_t hi, bool erode) {
  int32_t count = 0;
  for (int64_t y = 0; y <= std::min(hi, n - 1); ++y) count += in[y];
  const int32_t full = static_cast<int32_t>(hi - lo + 1);
  for (int64_t x = 0; x < n; ++x) {
    out[x] = erode ? (x + lo >= 0 && x + hi < n && count == full) : count > 0;
    if (x + 1 + hi < n) count += in[x + 1 + hi];
    if (x + lo >= 0) count -= in[x + lo];
  }
}

// Lines of the slice or row axis are slid this many at a time.
constexpr int64_t kSlideWidth = 2048;

void box_axis(const uint8_t* in, uint8_t* out, const VolumeDims& dims, int axis, int64_t lo, int64_t hi, bool erode) {
  const int64_t n = dims[axis];
  if (axis == 2) {
    kernels::parallel_for(
        dims[0] * dims[1], [&](int64_t l) { box_row(in + l * n, out + l * n, n, lo, hi, erode); },
        std::max<int64_t>(1, kernels::kParallelGrain / n));
    return;
  }
  const int64_t inner = axis == 1 ? dims[2] : dims[1] * dims[2];
  const int64_t outer = element_count(dims) / (n * inner);
  const int64_t chunks = (inner + kSlideWidth - 1) / kSlideWidth;
  const int64_t chunk = std::min(inner, kSlideWidth);
  kernels::parallel_for(
      outer * chunks,
      [&](int64_t t) {
        thread_local std::vector<int32_t> count(kSlideWidth);
        const int64_t first = (t % chunks) * chunk, width = std::min(chunk, inner - first);
        const int64_t base = (t / chunks) * n * inner + first;
        box_lines(in + base, out + base, n, inner, width, lo, hi, erode, count.data());
      },
      std::max<int64_t>(1, kernels::kParallelGrain / (n * chunk)));
}

// A box is the product of one interval per axis, and so is the array, so the 3D operation is the 1D one
// applied along each axis in turn (border value 0 included).
void box_morphology(std::vector<uint8_t>& mask, const VolumeDims& dims, const std::array<int, 3>& box, bool erode) {
  std::vector<uint8_t> other;
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t s = box[axis];
    if (s == 1) continue;
    // The box covers offsets [-(s / 2), s - 1 - s / 2] (scipy's centre s / 2); dilation reads them mirrored.
    const int64_t back = s / 2, forward = s - 1 - s / 2;
    const int64_t lo = erode ? -back : -forward, hi = erode ? forward : back;
    other.resize(mask.size());
    box_axis(mask.data(), other.data(), dims, axis, lo, hi, erode);
    mask.swap(other);
  }
}

// One line of the squared distance transform, in place: d(q) = min over p of (q - p)^2 + f(p), with f = inf
// where the earlier axes found nothing. The envelope holds only finite parabolas; a line without any
// stays inf. Every value is an integer far below 2^53, and the breakpoints are compared as correctly
// rounded quotients of exact integers, so the result is exact.
template <typename T>
void envelope_line(T* line, int64_t n) {
  LineScratch& s = line_scratch(n);
  double* f = s.f.data();
  double* z = s.z.data();
  int64_t* v = s.v.data();
  for (int64_t q = 0; q < n; ++q) f[q] = static_cast<double>(line[q]);
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (std::isinf(f[q])) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    const double fq = f[q] + static_cast<double>(q * q);
    double cross;
    while (true) {
      const int64_t p = v[k];
      cross = (fq - (f[p] + static_cast<double>(p * p))) / static_cast<double>(2 * (q - p));
      if (cross > z[k]) break;
      --k;  // z[0] = -inf ends this at k = 0
    }
    ++k;
    v[k] = q;
    z[k] = cross;
    z[k + 1] = kInf;
  }
  if (k < 0) {
    for (int64_t q = 0; q < n; ++q) line[q] = std::numeric_limits<T>::infinity();
    return;
  }
  k = 0;
  for (int64_t q = 0; q < n; ++q) {
    while (z[k + 1] < static_cast<double>(q)) ++k;
    const double dq = static_cast<double>(q - v[k]);
    line[q] = static_cast<T>(dq * dq + f[v[k]]);
  }
}

// Squared distance to the nearest band element of the same row (inf when the row has none): the distance
// to the last one at or before x, then the nearer of that and the next one at or after x.
template <typename T>
void row_squared_distance(const uint8_t* __restrict band, T* __restrict sq, int64_t n) {
  constexpr T kNone = std::numeric_limits<T>::infinity();
  int64_t last = -1;
  for (int64_t x = 0; x < n; ++x) {
    if (band[x]) last = x;
    sq[x] = last < 0 ? kNone : static_cast<T>(x - last);
  }
  int64_t next = -1;
  for (int64_t x = n - 1; x >= 0; --x) {
    if (band[x]) next = x;
    const T d = next < 0 ? sq[x] : std::min(sq[x], static_cast<T>(next - x));
    sq[x] = d * d;  // an integer below 2^24 when T is float (squared_distance_fits_float)
  }
}

// Squared distances to the nearest band element into sq (0 on the band, inf with nothing to reach).
// k2d runs the columns and rows only, so each slice is on its own.
template <typename T>
void squared_distance_to_band(const std::vector<uint8_t>& band, const VolumeDims& dims, WeightmapMode mode, T* sq) {
  // Along the columns the input is only 0 or inf, so a scan each way does what the envelope would.
  const int64_t n = dims[2];
  kernels::parallel_for(
      dims[0] * dims[1], [&](int64_t l) { row_squared_distance(band.data() + l * n, sq + l * n, n); },
      std::max<int64_t>(1, kernels::kParallelGrain / n));
  for (int axis = 1; axis >= (mode == WeightmapMode::k2d ? 1 : 0); --axis) {
    for_each_strided_line(sq, dims, axis, [](T* line, int64_t len) { envelope_line(line, len); });
  }
}

// float holds every integer below 2^24 exactly; the largest squared distance a volume can produce decides
// whether the squared distances fit in float storage (every LiTS volume does) or need double.
bool squared_distance_fits_float(const VolumeDims& dims, WeightmapMode mode) {
  double largest = 0.0;
  for (int axis = mode == WeightmapMode::k2d ? 1 : 0; axis < 3; ++axis) {
    largest += static_cast<double>(dims[axis] - 1) * static_cast<double>(dims[axis] - 1);
  }
  return largest < 16777216.0;
}

// W = a * max(exp(-beta * D), floor) + (1 - a) * M from D^2. Most of a volume lies far from any mask, where
// the floor wins: from D = ln(1 / floor) / beta + 1e-6 / beta on, exp(-beta * D) is below the floor by a
// factor exp(-1e-6), far more than rounding, so skipping the exp and sqrt there gives the same values.
class MaskWeight {
 public:
  explicit MaskWeight(const WeightmapParams& p) : p_(p) {
    if (p.floor > 0.0) {
      const double d = std::max(std::log(1.0 / p.floor) / p.beta, 0.0) + 1e-6 / p.beta;
      floor_from_sq_ = d * d;
    }
  }
  double operator()(double squared_distance, bool in_mask) const {
    const double mask_term = in_mask ? 1.0 - p_.a : 0.0;
    if (squared_distance > floor_from_sq_) return p_.a * p_.floor + mask_term;
    const double d = std::sqrt(squared_distance);  // sqrt(inf) = inf, exp(-inf) = 0: the floor
    return p_.a * std::max(std::exp(-p_.beta * d), p_.floor) + mask_term;
  }

 private:
  WeightmapParams p_;
  double floor_from_sq_ = kInf;
};

void check_params(const char* what, const WeightmapParams& p, WeightmapMode mode) {
  check_box(what, p.box);
  LITS_CHECK(p.beta > 0.0 && std::isfinite(p.beta), what << ": beta " << p.beta << " must be positive and finite");
  LITS_CHECK(std::isfinite(p.a) && std::isfinite(p.floor),
             what << ": a " << p.a << " and floor " << p.floor << " must be finite");
  LITS_CHECK(mode == WeightmapMode::k3d || p.box[0] == 1, what << ": 2D (per-slice) maps need box[0] == 1, got box ["
                                                               << p.box[0] << ", " << p.box[1] << ", " << p.box[2]
                                                               << "]");
}

// Fills the squared distances of one mask's band into sq.
template <typename T>
void mask_squared_distance(const std::vector<uint8_t>& mask, const VolumeDims& dims, const std::array<int, 3>& box,
                           WeightmapMode mode, T* sq) {
  squared_distance_to_band(boundary_band(mask, dims, box), dims, mode, sq);
}

template <typename T>
void final_maps(const std::vector<uint8_t>& labels, const VolumeDims& dims, WeightmapMode mode,
                const WeightmapParams& liver, const WeightmapParams& lesion, T* sq_liver, T* sq_lesion,
                Weightmaps& out) {
  const int64_t count = element_count(dims);
  {
    std::vector<uint8_t> mask(labels.size());
    kernels::parallel_for(count, [&](int64_t i) { mask[i] = labels[i] >= 1 ? 1 : 0; });
    mask_squared_distance(mask, dims, liver.box, mode, sq_liver);
    kernels::parallel_for(count, [&](int64_t i) { mask[i] = labels[i] == 2 ? 1 : 0; });
    mask_squared_distance(mask, dims, lesion.box, mode, sq_lesion);
  }
  // Both maps from double values, each read before either output is written (the outputs may be the
  // squared-distance buffers themselves).
  const MaskWeight liver_weight(liver), lesion_weight(lesion);
  kernels::parallel_for(count, [&](int64_t i) {
    const double w_liver = liver_weight(static_cast<double>(sq_liver[i]), labels[i] >= 1);
    const double w_lesion = lesion_weight(static_cast<double>(sq_lesion[i]), labels[i] == 2);
    out.liver[i] = static_cast<float>(0.65 * w_liver + 0.35 * w_lesion);
    out.lesion[i] = static_cast<float>(w_lesion);
  });
}

}  // namespace

int weightmap_box_size_3d(double spacing_mm) {
  LITS_CHECK(spacing_mm > 0.0 && std::isfinite(spacing_mm),
             "voxel spacing " << spacing_mm << " mm must be positive and finite");
  const double size = std::max(5.0 / spacing_mm, 2.0);
  LITS_CHECK(size < 1e6, "voxel spacing " << spacing_mm << " mm gives a " << size
                                          << " voxel box; spacings below 5e-6 mm are not plausible");
  return static_cast<int>(size);  // Python's int(): truncation toward zero
}

WeightmapParams weightmap_params_2d(WeightmapTarget) {
  // The 2D script uses one set of numbers for liver and lesion.
  return WeightmapParams{{1, 5, 5}, 0.75, 0.02, 1.0 / std::sqrt(3.0)};
}

WeightmapParams weightmap_params_3d(WeightmapTarget target, const std::array<double, 3>& spacing_zyx) {
  WeightmapParams p;
  for (int axis = 0; axis < 3; ++axis) p.box[axis] = weightmap_box_size_3d(spacing_zyx[axis]);
  if (target == WeightmapTarget::kLiver) {
    p.a = 0.6;
    p.beta = 0.1;
    p.floor = 0.3;
  } else {
    p.a = 0.75;
    p.beta = 0.09;
    p.floor = 0.5;
  }
  return p;
}

std::vector<uint8_t> box_dilate(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                const std::array<int, 3>& box) {
  check_mask("box_dilate mask", mask, dims);
  check_box("box_dilate", box);
  std::vector<uint8_t> out = mask;
  box_morphology(out, dims, box, false);
  return out;
}

std::vector<uint8_t> box_erode(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                               const std::array<int, 3>& box) {
  check_mask("box_erode mask", mask, dims);
  check_box("box_erode", box);
  std::vector<uint8_t> out = mask;
  box_morphology(out, dims, box, true);
  return out;
}

std::vector<uint8_t> boundary_band(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                   const std::array<int, 3>& box) {
  std::vector<uint8_t> band = box_dilate(mask, dims, box);
  const std::vector<uint8_t> eroded = box_erode(mask, dims, box);
  // The box contains its centre, so erode(M) <= M <= dilate(M) and the two differences are disjoint.
  kernels::parallel_for(element_count(dims), [&](int64_t i) { band[i] = band[i] && !eroded[i] ? 1 : 0; });
  return band;
}

std::vector<double> distance_to_band(const std::vector<uint8_t>& band, const VolumeDims& dims, WeightmapMode mode) {
  check_mask("distance_to_band band", band, dims);
  std::vector<double> d(band.size());
  squared_distance_to_band(band, dims, mode, d.data());
  kernels::parallel_for(element_count(dims), [&](int64_t i) { d[i] = std::sqrt(d[i]); });
  return d;
}

std::vector<float> mask_weightmap(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                  const WeightmapParams& params, WeightmapMode mode) {
  check_mask("mask_weightmap mask", mask, dims);
  check_params("mask_weightmap", params, mode);
  std::vector<float> w(mask.size());
  const MaskWeight weight(params);
  const auto finish = [&](const auto* sq) {
    kernels::parallel_for(element_count(dims), [&](int64_t i) {
      w[i] = static_cast<float>(weight(static_cast<double>(sq[i]), mask[i] != 0));
    });
  };
  if (squared_distance_fits_float(dims, mode)) {
    mask_squared_distance(mask, dims, params.box, mode, w.data());
    finish(w.data());
  } else {
    std::vector<double> sq(mask.size());
    mask_squared_distance(mask, dims, params.box, mode, sq.data());
    finish(sq.data());
  }
  return w;
}

Weightmaps compute_weightmaps(const std::vector<uint8_t>& labels, const VolumeDims& dims,
                              const std::array<double, 3>& spacing_zyx, WeightmapMode mode) {
  check_dims("weightmap labels", labels.size(), dims);
  const auto bad = std::find_if(labels.begin(), labels.end(), [](uint8_t l) { return l > 2; });
  if (bad != labels.end()) {
    LITS_THROW("weightmap labels: label " << int{*bad} << " at " << where(bad - labels.begin(), dims)
                                          << "; expected 0 (background), 1 (liver) or 2 (lesion)");
  }
  const bool per_slice = mode == WeightmapMode::k2d;
  const WeightmapParams liver = per_slice ? weightmap_params_2d(WeightmapTarget::kLiver)
                                          : weightmap_params_3d(WeightmapTarget::kLiver, spacing_zyx);
  const WeightmapParams lesion = per_slice ? weightmap_params_2d(WeightmapTarget::kLesion)
                                           : weightmap_params_3d(WeightmapTarget::kLesion, spacing_zyx);
  Weightmaps out;
  out.liver.resize(labels.size());
  out.lesion.resize(labels.size());
  if (squared_distance_fits_float(dims, mode)) {
    // The squared distances live in the output buffers until the last pass turns them into weights: at
    // most about 13 bytes per voxel (labels, a mask, three morphology buffers, two float maps).
    final_maps(labels, dims, mode, liver, lesion, out.liver.data(), out.lesion.data(), out);
  } else {
    std::vector<double> sq_liver(labels.size()), sq_lesion(labels.size());
    final_maps(labels, dims, mode, liver, lesion, sq_liver.data(), sq_lesion.data(), out);
  }
  return out;
}

uint16_t float_to_half(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exponent = (x >> 23) & 0xffu;
  uint32_t mantissa = x & 0x7fffffu;
  if (exponent == 0xffu) {  // inf, or NaN made quiet so that dropping payload bits cannot turn it into inf
    return static_cast<uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u | (mantissa >> 13) : 0u));
  }
  const int e = static_cast<int>(exponent) - 127 + 15;  // the half's biased exponent
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  uint32_t half;
  uint32_t rest, midpoint;
  if (e >= 1) {
    half = (static_cast<uint32_t>(e) << 10) | (mantissa >> 13);
    rest = mantissa & 0x1fffu;
    midpoint = 0x1000u;
  } else {
    // Subnormal half: value / 2^-24 = (1.mantissa) * 2^(e - 1 + 10) = full >> (14 - e).
    if (e < -10) return static_cast<uint16_t>(sign);  // below 2^-25, half the smallest subnormal
    mantissa |= 0x800000u;
    const int shift = 14 - e;
    half = mantissa >> shift;
    rest = mantissa & ((1u << shift) - 1u);
    midpoint = 1u << (shift - 1);
  }
  // A carry out of the mantissa moves to the next exponent (or to inf), which is the right result.
  if (rest > midpoint || (rest == midpoint && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1fu) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0) return std::bit_cast<float>(sign);
    // Subnormal: shift the leading 1 up to the implicit position; every float is normal here.
    exponent = 127 - 15 + 1;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    mantissa &= 0x3ffu;
    return std::bit_cast<float>(sign | (exponent << 23) | (mantissa << 13));
  }
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

}  // namespace lits
