// An RGB raster for the run folder's sample images: filled rectangles and text in a small built-in bitmap
// font (5 x 7 pixels per glyph, capitals, digits and a little punctuation; lower case is drawn as capitals,
// anything else as '?'), scaled by whole pixels. No font files and no imaging library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

class Canvas {
 public:
  Canvas(int64_t width, int64_t height, Rgb background);

  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  Rgb at(int64_t x, int64_t y) const;
  // Pixels outside the canvas are ignored.
  void set(int64_t x, int64_t y, Rgb colour);
  void fill(int64_t x, int64_t y, int64_t w, int64_t h, Rgb colour);
  // `text` with its top-left corner at (x, y), each font pixel `scale` x `scale` canvas pixels.
  void text(int64_t x, int64_t y, const std::string& text, Rgb colour, int scale = 1);
  // [height, width, 3] row-major, for write_png_rgb.
  const std::vector<uint8_t>& pixels() const { return pixels_; }

  // The extent of `text` drawn at `scale`: 6 * scale per character (a 5-pixel glyph and a 1-pixel space),
  // less the trailing space; 7 * scale high.
  static int64_t text_width(const std::string& text, int scale = 1);
  static int64_t text_height(int scale = 1) { return 7 * scale; }

 private:
  int64_t width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace lits
