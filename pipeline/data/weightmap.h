// The reference's boundary weightmaps (docs/reference.md section 4.2): box dilation and erosion as
// scipy.ndimage does them, the exact Euclidean distance to the boundary band, the per-mask map
// W = a * max(exp(-beta * D), floor) + (1 - a) * M in its 2D (per slice) and 3D (whole volume) forms, the
// final liver/lesion mixing, and the IEEE float16 conversion the slice store writes the maps with.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace lits {

// Extents [D, H, W] of a volume in the slice store's layout: D slices, each an H x W row-major array
// (rows = NIfTI i axis, columns = NIfTI j axis), W fastest. Every extent must be at least 1.
using VolumeDims = std::array<int64_t, 3>;

// k2d: the reference's 2D script, one map per slice (morphology and distance never cross slices).
// k3d: its 3D script, one map over the whole volume.
enum class WeightmapMode { k2d, k3d };
enum class WeightmapTarget { kLiver, kLesion };

struct WeightmapParams {
  std::array<int, 3> box{1, 1, 1};  // structuring-element size per axis (slices, rows, columns)
  double a = 0.0;                   // share of the distance term; 1 - a goes to the mask itself
  double beta = 0.0;                // decay per pixel of distance
  double floor = 0.0;               // lowest value of the distance term
};

// 2D script: a 5 x 5 box in each slice, a = 0.75, beta = 0.02, floor = 1/sqrt(3) for both targets.
WeightmapParams weightmap_params_2d(WeightmapTarget target);
// 3D script: box size weightmap_box_size_3d(spacing) per axis; liver a = 0.6, beta = 0.1, floor = 0.3;
// lesion a = 0.75, beta = 0.09, floor = 0.5. spacing_zyx in mm, ordered as the volume axes (slices, rows,
// columns); each must be positive and finite.
WeightmapParams weightmap_params_3d(WeightmapTarget target, const std::array<double, 3>& spacing_zyx);
// Python's int(max(5 / spacing, 2)): 0.7 mm -> 7, 0.8 -> 6, 1 -> 5, >= 2.5 -> 2.
int weightmap_box_size_3d(double spacing_mm);

// Binary morphology with an all-ones box, border value 0 (outside the array counts as 0 for both), on a
// 0/1 mask [D, H, W]. The box is placed as scipy places a structuring element of size s with its default
// origin: its centre is element s / 2, so it covers offsets [-(s / 2), s - 1 - s / 2]. For odd s that is
// symmetric; for even s it reaches one further back than forward (s = 6: [-3, 2]). Erosion keeps x when
// x + box lies inside the array and inside the mask, so it reads offsets [-(s / 2), s - 1 - s / 2];
// dilation marks every x + box for x in the mask, so it reads the mirrored offsets [-(s - 1 - s / 2), s / 2].
// Separable: one pass per axis with box size > 1, O(1) per element whatever the box size.
std::vector<uint8_t> box_dilate(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                const std::array<int, 3>& box);
std::vector<uint8_t> box_erode(const std::vector<uint8_t>& mask, const VolumeDims& dims, const std::array<int, 3>& box);
// The band around the mask boundary: (dilate(M) - M) + (M - erode(M)) > 0, i.e. dilate(M) and not erode(M).
std::vector<uint8_t> boundary_band(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                   const std::array<int, 3>& box);

// Exact Euclidean distance (unit spacing: the reference ignores voxel anisotropy) from every element to the
// nearest band element, 0 on the band; per slice for k2d, over (slices, rows, columns) for k3d. Where there
// is no band element to measure to (an empty slice in k2d, an empty volume in k3d) the distance is +inf,
// not scipy's distance to a virtual point before the array's first corner (docs/architecture.md section 8).
std::vector<double> distance_to_band(const std::vector<uint8_t>& band, const VolumeDims& dims, WeightmapMode mode);

// W = a * max(exp(-beta * D), floor) + (1 - a) * M for one 0/1 mask, with D the distance to its
// boundary_band. An empty mask (no band) gives the constant a * floor. k2d needs params.box[0] == 1.
std::vector<float> mask_weightmap(const std::vector<uint8_t>& mask, const VolumeDims& dims,
                                  const WeightmapParams& params, WeightmapMode mode);

struct Weightmaps {
  std::vector<float> liver;   // 0.65 * W_liver + 0.35 * W_lesion
  std::vector<float> lesion;  // W_lesion
};

// Both final maps of a label volume [D, H, W] (0 background, 1 liver, 2 lesion): liver mask = label >= 1,
// lesion mask = label == 2, parameters from weightmap_params_2d / _3d. spacing_zyx is only used (and
// checked) in k3d, as the 2D script never reads it.
Weightmaps compute_weightmaps(const std::vector<uint8_t>& labels, const VolumeDims& dims,
                              const std::array<double, 3>& spacing_zyx, WeightmapMode mode);

// IEEE 754 binary16 <-> binary32. float_to_half rounds to nearest, ties to even; overflow gives +-inf,
// values below half the smallest subnormal give +-0, NaN stays NaN (quiet, sign and top payload bits kept).
// half_to_float is exact.
uint16_t float_to_half(float value);
float half_to_float(uint16_t half);

}  // namespace lits
