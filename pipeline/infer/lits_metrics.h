// The LiTS challenge's per-volume segmentation metrics on binary 3D masks: Dice, VOE, RVD, and the surface
// distances ASSD and MSSD in mm, defined as medpy's __surface_distances that the official LiTS evaluation
// uses (surface = M and not erode(M) with the 6-neighbourhood and border value 0; distances from each
// surface voxel to the nearest surface voxel of the other mask, spacing-weighted).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace lits {

// A binary mask volume in NIfTI voxel order: index = (k * nj + j) * ni + i (i fastest), values 0/1.
struct MaskDims {
  int64_t ni = 1, nj = 1, nk = 1;
};

struct CaseMetrics {
  int64_t pred_voxels = 0, truth_voxels = 0, both_voxels = 0;
  double dice = 0;  // 2|P∩T|/(|P|+|T|); 1.0 when both are empty (LiTS per-case convention for lesions)
  double voe = 0;   // 1 - |P∩T|/|P∪T|; 0 when both empty
  double rvd = 0;   // (|P| - |T|) / |T|; NaN when |T| == 0
  double assd = 0;  // average symmetric surface distance in mm; NaN when either mask is empty
  double mssd = 0;  // maximum symmetric surface distance (Hausdorff) in mm; NaN when either is empty
};

// pred/truth: same size ni*nj*nk, values 0 or 1; spacing = (di, dj, dk) in mm, each > 0 and finite.
// Throws lits::Error on bad dims, a size mismatch, a voxel value other than 0/1, or bad spacing.
// The distance field covers only the bounding box of the union of both masks, so memory follows the
// masks' extent rather than the volume's.
CaseMetrics case_metrics(const std::vector<uint8_t>& pred, const std::vector<uint8_t>& truth, const MaskDims& dims,
                         const std::array<double, 3>& spacing);

}  // namespace lits
