// Training augmentation and crop (docs/reference.md section 5.3 steps 3-4): rotation by up to +-10 degrees,
// zoom by 0.825 to 1.175, horizontal and vertical flips, each with probability 1/2, all nearest neighbour,
// then a crop window. Every transform copies one input pixel to each output pixel, so the chain
// vflip(hflip(zoom(rotate(A)))) is one gather: a source map computed once per sample and applied to every
// channel, the target, the weightmap and the liver mask alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/data/sample_rng.h"

namespace lits {

// Which transforms a run uses (the setup files' `augment` list).
struct AugmentModes {
  bool rot = false, zoom = false, hflip = false, vflip = false;
  bool any() const { return rot || zoom || hflip || vflip; }
  std::string str() const;  // "rot,zoom,hflip,vflip" or "none"
};
// From the names 'rot', 'zoom', 'hflip', 'vflip'; anything else is an error listing them.
AugmentModes parse_augment_modes(const std::vector<std::string>& names);

// One sample's transforms.
struct AugmentDraw {
  bool rotate = false;
  double angle_deg = 0.0;  // [-10, 10)
  bool zoom = false;
  double zoom_factor = 1.0;  // [0.825, 1.175)
  bool hflip = false, vflip = false;
  bool any() const { return rotate || zoom || hflip || vflip; }
};
// In the reference's order: for each of rot, zoom, hflip, vflip a fair coin, then the angle and the factor.
// The same number of draws for any modes, so enabling one transform does not change another's draws.
AugmentDraw draw_augment(const AugmentModes& modes, SampleRng& rng);

// For each pixel of the height x width output (row-major), the row-major index of the input pixel it
// copies. Conventions of the reference (scipy.ndimage, order 0):
//   rotate: about the centre ((H-1)/2, (W-1)/2); output (r, c) reads input
//           (cos a (r-cr) + sin a (c-cc) + cr, -sin a (r-cr) + cos a (c-cc) + cc) rounded half up, clamped
//           to the edge (mode 'nearest'), i.e. the image turns counter-clockwise by a as displayed;
//   zoom:   the image resampled to n = round(m H) rows (half to even, as Python's round) with row o reading
//           round(o (H-1)/(n-1)); for n < H pasted centred at (H-n)//2 on a canvas of the rotated image's
//           bottom-right pixel, for n > H centre-cropped from (n-H)//2; columns alike;
//   hflip:  columns reversed; vflip: rows reversed.
std::vector<int32_t> augment_source_map(int64_t height, int64_t width, const AugmentDraw& draw);
// The same map for the rows x cols window at (row0, col0) of the output only: a random crop needs no more.
std::vector<int32_t> augment_source_window(int64_t height, int64_t width, const AugmentDraw& draw, int64_t row0,
                                           int64_t col0, int64_t rows, int64_t cols);

// Section 5.3 step 4: the first row (or column) of a crop of `crop` pixels (even) centred at `centre` in an
// axis of `size` pixels: the centre is clipped to [crop/2 - 1, size - crop/2 - 1] and the window is
// [centre - crop/2 + 1, centre + crop/2].
int64_t crop_start(int64_t centre, int64_t size, int64_t crop);
// A uniform centre over every valid window position. (The reference's exclusive upper bound never reached
// the last position; fixed.)
int64_t random_crop_centre(int64_t size, int64_t crop, SampleRng& rng);

}  // namespace lits
