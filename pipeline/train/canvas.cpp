// The canvas and its bitmap font (see canvas.h). The glyphs were drawn for this project on a 5 x 7 grid:
// each is seven rows, top first, of five bits, the leftmost pixel in bit 4.
#include "pipeline/train/canvas.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/error.h"

namespace lits {

namespace {

struct Glyph {
  char c;
  std::array<uint8_t, 7> rows;
};

// clang-format off
constexpr Glyph kFont[] = {
    {'0', {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110}},
    {'1', {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
    {'2', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111}},
    {'3', {0b11110, 0b00001, 0b00001, 0b01110, 0b00001, 0b00001, 0b11110}},
    {'4', {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010}},
    {'5', {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110}},
    {'6', {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110}},
    {'7', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000}},
    {'8', {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110}},
    {'9', {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100}},
    {'A', {0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001}},
    {'B', {0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110}},
    {'C', {0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110}},
    {'D', {0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110}},
    {'E', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111}},
    {'F', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000}},
    {'G', {0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111}},
    {'H', {0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001}},
    {'I', {0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
    {'J', {0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100}},
    {'K', {0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001}},
    {'L', {0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111}},
    {'M', {0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001}},
    {'N', {0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001}},
    {'O', {0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110}},
    {'P', {0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000}},
    {'Q', {0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101}},
    {'R', {0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001}},
    {'S', {0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110}},
    {'T', {0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100}},
    {'U', {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110}},
    {'V', {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100}},
    {'W', {0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010}},
    {'X', {0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001}},
    {'Y', {0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100}},
    {'Z', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111}},
    {' ', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000}},
    {'-', {0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000}},
    {'_', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111}},
    {'.', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100}},
    {',', {0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000}},
    {':', {0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000}},
    {'/', {0b00001, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b10000}},
    {'(', {0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010}},
    {')', {0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000}},
    {'=', {0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000}},
    {'+', {0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000}},
    {'#', {0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010}},
    {'?', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100}},
};
// clang-format on

const Glyph& glyph(char c) {
  const char up = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kFont)
    if (g.c == up) return g;
  for (const Glyph& g : kFont)
    if (g.c == '?') return g;
  return kFont[0];
}

}  // namespace

Canvas::Canvas(int64_t width, int64_t height, Rgb background) : width_(width), height_(height) {
  LITS_CHECK(width >= 1 && height >= 1 && width <= (1 << 16) && height <= (1 << 16),
             "canvas: " << width << " x " << height << " pixels; expected 1 to 65536 each");
  pixels_.resize(static_cast<size_t>(width * height * 3));
  for (size_t p = 0; p < pixels_.size(); p += 3) {
    pixels_[p] = background.r;
    pixels_[p + 1] = background.g;
    pixels_[p + 2] = background.b;
  }
}

Rgb Canvas::at(int64_t x, int64_t y) const {
  LITS_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_,
             "canvas: pixel (" << x << ", " << y << ") outside " << width_ << " x " << height_);
  const size_t p = static_cast<size_t>((y * width_ + x) * 3);
  return {pixels_[p], pixels_[p + 1], pixels_[p + 2]};
}

void Canvas::set(int64_t x, int64_t y, Rgb colour) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const size_t p = static_cast<size_t>((y * width_ + x) * 3);
  pixels_[p] = colour.r;
  pixels_[p + 1] = colour.g;
  pixels_[p + 2] = colour.b;
}

void Canvas::fill(int64_t x, int64_t y, int64_t w, int64_t h, Rgb colour) {
  for (int64_t r = std::max<int64_t>(y, 0); r < std::min(y + h, height_); ++r)
    for (int64_t q = std::max<int64_t>(x, 0); q < std::min(x + w, width_); ++q) set(q, r, colour);
}

void Canvas::text(int64_t x, int64_t y, const std::string& text, Rgb colour, int scale) {
  for (size_t k = 0; k < text.size(); ++k) {
    const Glyph& g = glyph(text[k]);
    const int64_t left = x + static_cast<int64_t>(k) * 6 * scale;
    for (int r = 0; r < 7; ++r)
      for (int c = 0; c < 5; ++c)
        if (g.rows[static_cast<size_t>(r)] & (1u << (4 - c)))
          fill(left + c * scale, y + r * scale, scale, scale, colour);
  }
}

int64_t Canvas::text_width(const std::string& text, int scale) {
  return text.empty() ? 0 : (6 * static_cast<int64_t>(text.size()) - 1) * scale;
}

}  // namespace lits
