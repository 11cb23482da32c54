// What a network is fed: volumes whose slice axis is not the body's long axis, and spacing far from the
// training data's. The training slices are axial: the slice store takes slices along the file's third
// axis, and LiTS volumes (and `lits synth` phantoms) run superior-inferior along it. A coronal or
// sagittal stack would be segmented "fine" along the wrong axis, so segmenting permutes its axes to
// (left-right, anterior-posterior, superior-inferior) and the outputs back (geometry exact). Only a
// permutation: each axis keeps its direction, as axial volumes keep theirs (training sees both RAS and
// LAS, LPS in LiTS), so an axial volume is never touched.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/io/nifti.h"

namespace lits {

using AxisOrder = std::array<int, 3>;  // new axis a is the file's axis order[a]

// The order that makes the file's volume axial: identity when its third axis runs S-I (or I-S); an error
// naming the file when its affine gives no orientation (an oblique or degenerate one: '?').
AxisOrder axial_axis_order(const NiftiGeometry& geometry, const std::string& file);
bool is_identity(const AxisOrder& order);
AxisOrder inverse_order(const AxisOrder& order);
// The dims after reordering.
std::array<int64_t, 3> reordered_dims(const std::array<int64_t, 3>& dims, const AxisOrder& order);

// A volume in NIfTI voxel order (i fastest) with `dims`, its axes reordered: out(x0, x1, x2) = in at the
// voxel whose axis order[a] coordinate is x_a.
template <typename T>
std::vector<T> reorder_axes(const std::vector<T>& voxels, const std::array<int64_t, 3>& dims, const AxisOrder& order);

// "spacing 0.35 x 0.35 mm differs from the training volumes' 0.78 x 0.78 mm by more than 1.5 times: ..."
// when either in-plane spacing is more than `factor` times off (either way); "" otherwise or when the
// training spacing is unknown (0).
std::string spacing_warning(const std::array<double, 2>& spacing, const std::array<double, 2>& training,
                            double factor = 1.5);

}  // namespace lits
