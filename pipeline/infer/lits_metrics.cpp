// The LiTS per-volume metrics: overlap counts over the whole volume, surface distances through an exact
// separable Euclidean distance transform (Felzenszwalb & Huttenlocher 2012) over the bounding box of the
// union of both masks.
#include "pipeline/infer/lits_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/error.h"

namespace lits {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-voxel flags over the crop: mask membership and surface membership share one byte.
constexpr uint8_t kPred = 1, kTruth = 2, kPredSurface = 4, kTruthSurface = 8;

using Dims3 = std::array<int64_t, 3>;

// Scratch for one line of the transform, sized once for the longest axis of the crop.
struct LineScratch {
  std::vector<double> f, d, z;
  std::vector<int64_t> v;
  explicit LineScratch(int64_t n) : f(n), d(n), z(n + 1), v(n) {}
};

// (weightmap.cpp has the unit-spacing form in exact integer arithmetic, which its float16 weightmaps need to
// match scipy bit for bit; here the positions carry the axis spacing in mm, so the two stay separate.)
// 1D squared distance transform: d[q] = min_r ((q - r) * s)^2 + f[r], the lower envelope of the parabolas
// rooted at the samples. Samples with f = inf have no parabola and are skipped, since their intersections
// would be inf - inf; a line with no finite sample stays all inf. The intersection uses
// ((f_q - f_v) / (x_q - x_v) + x_q + x_v) / 2, equal to F&H's form but without squaring the positions.
void squared_distance_1d(const double* f, double* d, int64_t n, double s, int64_t* v, double* z) {
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    const double xq = static_cast<double>(q) * s;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    double sect;
    // z[0] = -inf and every intersection is finite, so the loop stops at k = 0 at the latest.
    while (true) {
      const double xv = static_cast<double>(v[k]) * s;
      sect = ((f[q] - f[v[k]]) / (xq - xv) + xq + xv) / 2;
      if (sect > z[k]) break;
      --k;
    }
    ++k;
    v[k] = q;
    z[k] = sect;
    z[k + 1] = kInf;
  }
  if (k < 0) {
    std::fill(d, d + n, kInf);
    return;
  }
  k = 0;
  for (int64_t q = 0; q < n; ++q) {
    const double xq = static_cast<double>(q) * s;
    while (z[k + 1] < xq) ++k;
    const double dx = xq - static_cast<double>(v[k]) * s;
    d[q] = dx * dx + f[v[k]];
  }
}

// One separable pass along `axis` of the crop field. Lines are visited so that neighbouring lines are
// neighbours in memory, which keeps the strided gathers for j and k within a few cache lines.
void transform_axis(std::vector<double>& field, const Dims3& n, int axis, double s, LineScratch& w) {
  const int64_t len = n[axis];
  if (len == 1) return;  // a one-sample line is its own envelope
  const int64_t step = axis == 0 ? 1 : axis == 1 ? n[0] : n[0] * n[1];
  int64_t n_outer = 1, outer_stride = 0, n_inner = 1;
  if (axis == 0) n_outer = n[1] * n[2], outer_stride = n[0];
  if (axis == 1) n_outer = n[2], outer_stride = n[0] * n[1], n_inner = n[0];
  if (axis == 2) n_inner = n[0] * n[1];
  double* data = field.data();
  for (int64_t o = 0; o < n_outer; ++o) {
    for (int64_t in = 0; in < n_inner; ++in) {
      double* line = data + o * outer_stride + in;
      bool any = false;
      for (int64_t q = 0; q < len; ++q) {
        w.f[q] = line[q * step];
        any = any || w.f[q] != kInf;
      }
      if (!any) continue;  // already all inf
      squared_distance_1d(w.f.data(), w.d.data(), len, s, w.v.data(), w.z.data());
      for (int64_t q = 0; q < len; ++q) line[q * step] = w.d[q];
    }
  }
}

struct Directed {
  double sum = 0, max = 0;
  int64_t count = 0;
};

// Distances in mm from every crop voxel flagged `from` to the nearest crop voxel flagged `to`. The field
// over the crop is exact because every `to` voxel lies inside it.
Directed directed_distances(const std::vector<uint8_t>& flags, const Dims3& n, const std::array<double, 3>& spacing,
                            uint8_t from, uint8_t to, std::vector<double>& field, LineScratch& w) {
  for (size_t x = 0; x < flags.size(); ++x) field[x] = (flags[x] & to) ? 0.0 : kInf;
  for (int axis = 0; axis < 3; ++axis) transform_axis(field, n, axis, spacing[axis], w);
  Directed r;
  for (size_t x = 0; x < flags.size(); ++x) {
    if (!(flags[x] & from)) continue;
    const double dist = std::sqrt(field[x]);
    r.sum += dist;
    r.max = std::max(r.max, dist);
    ++r.count;
  }
  return r;
}

// Flags the surface voxels of mask bit `mask` with `surface`: mask voxels with a face neighbour outside the
// mask. A neighbour outside the crop is background: either it is outside the volume (scipy's border value
// 0 in medpy's erosion) or outside the union's bounding box, so in neither mask.
void mark_surface(std::vector<uint8_t>& flags, const Dims3& n, uint8_t mask, uint8_t surface) {
  const int64_t sj = n[0], sk = n[0] * n[1];
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        const int64_t x = k * sk + j * sj + i;
        if (!(flags[x] & mask)) continue;
        const bool inner = i > 0 && i + 1 < n[0] && j > 0 && j + 1 < n[1] && k > 0 && k + 1 < n[2] &&
                           (flags[x - 1] & mask) && (flags[x + 1] & mask) && (flags[x - sj] & mask) &&
                           (flags[x + sj] & mask) && (flags[x - sk] & mask) && (flags[x + sk] & mask);
        if (!inner) flags[x] |= surface;
      }
}

}  // namespace

CaseMetrics case_metrics(const std::vector<uint8_t>& pred, const std::vector<uint8_t>& truth, const MaskDims& dims,
                         const std::array<double, 3>& spacing) {
  const int64_t ni = dims.ni, nj = dims.nj, nk = dims.nk;
  LITS_CHECK(ni >= 1 && nj >= 1 && nk >= 1,
             "case_metrics: mask dims must be positive, got " << ni << " x " << nj << " x " << nk);
  LITS_CHECK(nj <= std::numeric_limits<int64_t>::max() / ni && nk <= std::numeric_limits<int64_t>::max() / (ni * nj),
             "case_metrics: mask dims " << ni << " x " << nj << " x " << nk << " overflow the voxel count");
  const int64_t total = ni * nj * nk;
  LITS_CHECK(static_cast<int64_t>(pred.size()) == total, "case_metrics: size mismatch: pred has "
                                                             << pred.size() << " voxels, dims " << ni << " x " << nj
                                                             << " x " << nk << " need " << total);
  LITS_CHECK(static_cast<int64_t>(truth.size()) == total, "case_metrics: size mismatch: truth has "
                                                              << truth.size() << " voxels, dims " << ni << " x " << nj
                                                              << " x " << nk << " need " << total);
  static constexpr const char* kAxis[3] = {"di", "dj", "dk"};
  for (int a = 0; a < 3; ++a)
    LITS_CHECK(std::isfinite(spacing[a]) && spacing[a] > 0,
               "case_metrics: spacing " << kAxis[a] << " = " << spacing[a] << " mm must be finite and > 0");

  // Counts over the whole volume, and the bounding box of the union for the distance part.
  CaseMetrics m;
  int64_t np = 0, nt = 0, nb = 0;
  Dims3 lo = {ni, nj, nk}, hi = {-1, -1, -1};
  for (int64_t k = 0; k < nk; ++k)
    for (int64_t j = 0; j < nj; ++j) {
      const int64_t row = (k * nj + j) * ni;
      int64_t row_lo = ni, row_hi = -1;
      for (int64_t i = 0; i < ni; ++i) {
        const uint8_t p = pred[row + i], t = truth[row + i];
        // A label map passed by mistake (liver 1, lesion 2) would otherwise be scored silently.
        if ((p | t) > 1)
          LITS_THROW("case_metrics: " << (p > 1 ? "pred" : "truth") << " voxel (i " << i << ", j " << j << ", k " << k
                                      << ") is " << int{p > 1 ? p : t} << "; masks must be 0/1");
        np += p, nt += t, nb += p & t;
        if (p | t) row_lo = std::min(row_lo, i), row_hi = i;
      }
      if (row_hi < 0) continue;
      lo = {std::min(lo[0], row_lo), std::min(lo[1], j), std::min(lo[2], k)};
      hi = {std::max(hi[0], row_hi), std::max(hi[1], j), std::max(hi[2], k)};
    }
  m.pred_voxels = np, m.truth_voxels = nt, m.both_voxels = nb;
  const int64_t uni = np + nt - nb;
  m.dice = np + nt == 0 ? 1.0 : 2.0 * static_cast<double>(nb) / static_cast<double>(np + nt);
  m.voe = uni == 0 ? 0.0 : 1.0 - static_cast<double>(nb) / static_cast<double>(uni);
  m.rvd = nt == 0 ? kNaN : static_cast<double>(np - nt) / static_cast<double>(nt);
  if (np == 0 || nt == 0) {
    m.assd = m.mssd = kNaN;
    return m;
  }

  const Dims3 n = {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  std::vector<uint8_t> flags(static_cast<size_t>(n[0] * n[1] * n[2]));
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j) {
      const int64_t src = ((k + lo[2]) * nj + (j + lo[1])) * ni + lo[0], dst = (k * n[1] + j) * n[0];
      for (int64_t i = 0; i < n[0]; ++i)
        flags[dst + i] = static_cast<uint8_t>(pred[src + i] * kPred | truth[src + i] * kTruth);
    }
  mark_surface(flags, n, kPred, kPredSurface);
  mark_surface(flags, n, kTruth, kTruthSurface);

  std::vector<double> field(flags.size());
  LineScratch w(std::max({n[0], n[1], n[2]}));
  const Directed pt = directed_distances(flags, n, spacing, kPredSurface, kTruthSurface, field, w);
  const Directed tp = directed_distances(flags, n, spacing, kTruthSurface, kPredSurface, field, w);
  m.assd = (pt.sum + tp.sum) / static_cast<double>(pt.count + tp.count);
  m.mssd = std::max(pt.max, tp.max);
  return m;
}

}  // namespace lits
