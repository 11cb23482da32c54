// Augmentation source maps and crop windows (see augment.h).
#include "pipeline/data/augment.h"

#include <cmath>

#include "engine/error.h"

namespace lits {

namespace {

constexpr double kMaxAngleDeg = 10.0;
constexpr double kZoomLow = 0.825, kZoomHigh = 1.175;

// scipy's order-0 interpolation: the nearest pixel, halves rounded up, then clamped to the edge.
int64_t nearest_clamped(double x, int64_t size) {
  const double r = std::floor(x + 0.5);
  if (r < 0.0) return 0;
  if (r > static_cast<double>(size - 1)) return size - 1;
  return static_cast<int64_t>(r);
}

// One axis of the zoom: the zoomed length and where the output's first pixel sits in it.
struct ZoomAxis {
  int64_t n = 0;      // round(m * size)
  int64_t shift = 0;  // zoomed index = output index + shift (negative when pasted)
  double step = 0.0;  // input index = round(zoomed index * step)
};

ZoomAxis zoom_axis(int64_t size, double m) {
  ZoomAxis a;
  a.n = static_cast<int64_t>(std::nearbyint(m * static_cast<double>(size)));  // half to even, as Python
  if (a.n < 1) a.n = 1;
  a.shift = a.n < size ? -((size - a.n) / 2) : (a.n - size) / 2;
  a.step = a.n > 1 ? static_cast<double>(size - 1) / static_cast<double>(a.n - 1) : 0.0;
  return a;
}

}  // namespace

std::string AugmentModes::str() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ",";
    s += name;
  };
  add(rot, "rot");
  add(zoom, "zoom");
  add(hflip, "hflip");
  add(vflip, "vflip");
  return s.empty() ? "none" : s;
}

AugmentModes parse_augment_modes(const std::vector<std::string>& names) {
  AugmentModes m;
  for (const std::string& n : names) {
    if (n == "rot") {
      m.rot = true;
    } else if (n == "zoom") {
      m.zoom = true;
    } else if (n == "hflip") {
      m.hflip = true;
    } else if (n == "vflip") {
      m.vflip = true;
    } else {
      LITS_THROW("augment: unknown mode '" << n << "' (expected any of 'rot', 'zoom', 'hflip', 'vflip')");
    }
  }
  return m;
}

AugmentDraw draw_augment(const AugmentModes& modes, SampleRng& rng) {
  AugmentDraw d;
  d.rotate = rng.coin() && modes.rot;
  const double angle = (rng.uniform() * 2.0 - 1.0) * kMaxAngleDeg;
  if (d.rotate) d.angle_deg = angle;
  d.zoom = rng.coin() && modes.zoom;
  const double factor = rng.uniform(kZoomLow, kZoomHigh);
  if (d.zoom) d.zoom_factor = factor;
  d.hflip = rng.coin() && modes.hflip;
  d.vflip = rng.coin() && modes.vflip;
  return d;
}

std::vector<int32_t> augment_source_map(int64_t height, int64_t width, const AugmentDraw& draw) {
  return augment_source_window(height, width, draw, 0, 0, height, width);
}

std::vector<int32_t> augment_source_window(int64_t height, int64_t width, const AugmentDraw& draw, int64_t row0,
                                           int64_t col0, int64_t rows, int64_t cols) {
  LITS_CHECK(height >= 1 && width >= 1 && height * width <= INT32_MAX,
             "augment: slice " << height << " x " << width << " (expected 1 .. 2^31-1 pixels)");
  LITS_CHECK(row0 >= 0 && col0 >= 0 && rows >= 0 && cols >= 0 && row0 + rows <= height && col0 + cols <= width,
             "augment: window " << rows << " x " << cols << " at (" << row0 << ", " << col0 << ") outside the "
                                << height << " x " << width << " slice");
  const double rad = draw.angle_deg * 3.14159265358979323846 / 180.0;
  const double cs = std::cos(rad), sn = std::sin(rad);
  const double cr = static_cast<double>(height - 1) / 2.0, cc = static_cast<double>(width - 1) / 2.0;
  // Rotated-image pixel (r, c) -> input pixel.
  auto rotate = [&](int64_t r, int64_t c) -> int32_t {
    if (!draw.rotate) return static_cast<int32_t>(r * width + c);
    const double dr = static_cast<double>(r) - cr, dc = static_cast<double>(c) - cc;
    const int64_t ir = nearest_clamped(cs * dr + sn * dc + cr, height);
    const int64_t ic = nearest_clamped(-sn * dr + cs * dc + cc, width);
    return static_cast<int32_t>(ir * width + ic);
  };
  const ZoomAxis zr = zoom_axis(height, draw.zoom_factor), zc = zoom_axis(width, draw.zoom_factor);
  const int32_t canvas = rotate(height - 1, width - 1);  // the paste background: the rotated corner pixel

  std::vector<int32_t> map(static_cast<size_t>(rows * cols));
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t fr = draw.vflip ? height - 1 - r : r;
    for (int64_t c = col0; c < col0 + cols; ++c) {
      const int64_t fc = draw.hflip ? width - 1 - c : c;
      int32_t src;
      if (!draw.zoom) {
        src = rotate(fr, fc);
      } else {
        const int64_t qr = fr + zr.shift, qc = fc + zc.shift;  // in the zoomed image
        if (qr < 0 || qr >= zr.n || qc < 0 || qc >= zc.n) {
          src = canvas;
        } else {
          src = rotate(nearest_clamped(static_cast<double>(qr) * zr.step, height),
                       nearest_clamped(static_cast<double>(qc) * zc.step, width));
        }
      }
      map[static_cast<size_t>((r - row0) * cols + c - col0)] = src;
    }
  }
  return map;
}

int64_t crop_start(int64_t centre, int64_t size, int64_t crop) {
  LITS_CHECK(crop >= 2 && crop % 2 == 0 && crop <= size,
             "crop of " << crop << " pixels in an axis of " << size << " (expected an even size, at most the slice's)");
  const int64_t lo = crop / 2 - 1, hi = size - crop / 2 - 1;
  const int64_t c = centre < lo ? lo : (centre > hi ? hi : centre);
  return c - crop / 2 + 1;
}

int64_t random_crop_centre(int64_t size, int64_t crop, SampleRng& rng) {
  LITS_CHECK(crop >= 2 && crop % 2 == 0 && crop <= size,
             "crop of " << crop << " pixels in an axis of " << size << " (expected an even size, at most the slice's)");
  return crop / 2 - 1 + rng.below(size - crop + 1);
}

}  // namespace lits
