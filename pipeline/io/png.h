// 8-bit grayscale and RGB PNG files (the run folder's sample images), encoded with zlib: signature, IHDR,
// one IDAT of unfiltered scanlines, IEND. Written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

// pixels: [height, width] row-major.
void write_png_gray(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels);
// pixels: [height, width, 3] row-major, red, green, blue per pixel.
void write_png_rgb(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels);

}  // namespace lits
