// The reference's liver post-processing (docs/reference.md section 7.1 steps 4-5) on a mask in the slice
// store's layout [D, H, W] = (slices k, rows i, columns j): the largest 3D connected component (6-connected:
// face neighbours), then binary dilation by a 5 x 5 x 3 box and erosion by a 2 x 2 x 3 box (rows, columns,
// slices), placed as scipy places them (in-plane growth of 1 pixel toward lower and 2 toward higher
// indices, gaps of one slice closed). Fixed: the erosion treats voxels outside the volume as copies of the
// nearest voxel inside, so the first and last slices are no longer emptied; an empty mask stays empty
// (the reference crashed).
#pragma once

#include <cstdint>
#include <vector>

#include "pipeline/data/weightmap.h"

namespace lits {

// The largest 6-connected component; of equal sizes the one met first in memory order.
std::vector<uint8_t> largest_component(const std::vector<uint8_t>& mask, const VolumeDims& dims);

std::vector<uint8_t> postprocess_liver(const std::vector<uint8_t>& mask, const VolumeDims& dims);

// First and last slice holding any foreground, or {0, -1} for an empty mask.
std::pair<int64_t, int64_t> slice_range(const std::vector<uint8_t>& mask, const VolumeDims& dims);

}  // namespace lits
