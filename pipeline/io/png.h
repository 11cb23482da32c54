// 8-bit grayscale PNG files (the run folder's sample images), encoded with zlib: signature, IHDR, one
// IDAT of unfiltered scanlines, IEND. Written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lits {

// pixels: [height, width] row-major.
void write_png_gray(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels);

}  // namespace lits
