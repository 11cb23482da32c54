// PNG encoding (see png.h); the chunk layout and CRC follow the PNG specification (ISO/IEC 15948).
#include "pipeline/io/png.h"

#include <zlib.h>

#include "engine/error.h"
#include "pipeline/io/atomic_file.h"

namespace lits {

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  // The CRC covers the type and the data.
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), out.data() + start, static_cast<uInt>(out.size() - start));
  put_u32(out, static_cast<uint32_t>(crc));
}

// colour_type: 0 grayscale (1 byte per pixel), 2 RGB (3 bytes).
void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels,
               int64_t channels, uint8_t colour_type) {
  LITS_CHECK(width >= 1 && height >= 1 && width <= (1 << 24) && height <= (1 << 24) &&
                 static_cast<int64_t>(pixels.size()) == width * height * channels,
             "png '" << path << "': " << width << " x " << height << " x " << channels << " image with "
                     << pixels.size() << " bytes");
  const int64_t row = width * channels;
  std::vector<uint8_t> raw;  // each scanline: filter type 0, then the row
  raw.reserve(static_cast<size_t>((row + 1) * height));
  for (int64_t r = 0; r < height; ++r) {
    raw.push_back(0);
    raw.insert(raw.end(), pixels.begin() + r * row, pixels.begin() + (r + 1) * row);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> packed(packed_size);
  LITS_CHECK(compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 6) == Z_OK,
             "png '" << path << "': zlib compression failed");
  packed.resize(packed_size);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, static_cast<uint32_t>(width));
  put_u32(ihdr, static_cast<uint32_t>(height));
  ihdr.insert(ihdr.end(), {8, colour_type, 0, 0, 0});  // 8 bits, colour type, deflate, no filter method, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", {});
  write_file_atomic(path, {{png.data(), png.size()}});
}

}  // namespace

void write_png_gray(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels) {
  write_png(path, width, height, pixels, 1, 0);
}

void write_png_rgb(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& pixels) {
  write_png(path, width, height, pixels, 3, 2);
}

}  // namespace lits
