// Liver post-processing (see postprocess.h).
#include "pipeline/infer/postprocess.h"

#include <algorithm>

#include "engine/error.h"

namespace lits {

namespace {

int64_t count(const VolumeDims& d) { return d[0] * d[1] * d[2]; }

// Flood fill from `seed` over foreground voxels not yet visited; marks them with `mark` and returns the count.
int64_t flood(const std::vector<uint8_t>& mask, std::vector<uint8_t>& visited, const VolumeDims& d, int64_t seed,
              uint8_t mark, std::vector<int64_t>& stack) {
  const int64_t plane = d[1] * d[2];
  int64_t n = 0;
  stack.clear();
  stack.push_back(seed);
  visited[static_cast<size_t>(seed)] = mark;
  while (!stack.empty()) {
    const int64_t p = stack.back();
    stack.pop_back();
    ++n;
    const int64_t k = p / plane, i = p / d[2] % d[1], j = p % d[2];
    const int64_t nb[6] = {k > 0 ? p - plane : -1, k + 1 < d[0] ? p + plane : -1,
                           i > 0 ? p - d[2] : -1,  i + 1 < d[1] ? p + d[2] : -1,
                           j > 0 ? p - 1 : -1,     j + 1 < d[2] ? p + 1 : -1};
    for (int64_t q : nb) {
      if (q < 0 || !mask[static_cast<size_t>(q)] || visited[static_cast<size_t>(q)]) continue;
      visited[static_cast<size_t>(q)] = mark;
      stack.push_back(q);
    }
  }
  return n;
}

}  // namespace

std::vector<uint8_t> largest_component(const std::vector<uint8_t>& mask, const VolumeDims& d) {
  LITS_CHECK(static_cast<int64_t>(mask.size()) == count(d),
             "largest_component: " << mask.size() << " voxels for [" << d[0] << ", " << d[1] << ", " << d[2] << "]");
  std::vector<uint8_t> visited(mask.size(), 0);
  std::vector<int64_t> stack;
  int64_t best_seed = -1, best_size = 0;
  for (int64_t p = 0; p < count(d); ++p) {
    if (!mask[static_cast<size_t>(p)] || visited[static_cast<size_t>(p)]) continue;
    const int64_t n = flood(mask, visited, d, p, 1, stack);
    if (n > best_size) best_size = n, best_seed = p;
  }
  std::vector<uint8_t> out(mask.size(), 0);
  if (best_seed < 0) return out;
  std::fill(visited.begin(), visited.end(), 0);
  flood(mask, visited, d, best_seed, 1, stack);
  for (size_t p = 0; p < out.size(); ++p) out[p] = visited[p];
  return out;
}

std::vector<uint8_t> postprocess_liver(const std::vector<uint8_t>& mask, const VolumeDims& d) {
  std::vector<uint8_t> m = largest_component(mask, d);
  m = box_dilate(m, d, {3, 5, 5});
  // Erosion on a copy padded by one voxel of edge replication per side (the 2 x 2 x 3 box reaches one back).
  const VolumeDims p{d[0] + 2, d[1] + 2, d[2] + 2};
  std::vector<uint8_t> padded(static_cast<size_t>(count(p)));
  for (int64_t k = 0; k < p[0]; ++k)
    for (int64_t i = 0; i < p[1]; ++i)
      for (int64_t j = 0; j < p[2]; ++j) {
        const int64_t sk = std::clamp<int64_t>(k - 1, 0, d[0] - 1), si = std::clamp<int64_t>(i - 1, 0, d[1] - 1),
                      sj = std::clamp<int64_t>(j - 1, 0, d[2] - 1);
        padded[static_cast<size_t>((k * p[1] + i) * p[2] + j)] = m[static_cast<size_t>((sk * d[1] + si) * d[2] + sj)];
      }
  const std::vector<uint8_t> eroded = box_erode(padded, p, {3, 2, 2});
  for (int64_t k = 0; k < d[0]; ++k)
    for (int64_t i = 0; i < d[1]; ++i)
      for (int64_t j = 0; j < d[2]; ++j)
        m[static_cast<size_t>((k * d[1] + i) * d[2] + j)] =
            eroded[static_cast<size_t>(((k + 1) * p[1] + i + 1) * p[2] + j + 1)];
  return m;
}

std::pair<int64_t, int64_t> slice_range(const std::vector<uint8_t>& mask, const VolumeDims& d) {
  const int64_t plane = d[1] * d[2];
  int64_t lo = -1, hi = -1;
  for (int64_t k = 0; k < d[0]; ++k) {
    const auto begin = mask.begin() + k * plane;
    if (std::any_of(begin, begin + plane, [](uint8_t v) { return v != 0; })) {
      if (lo < 0) lo = k;
      hi = k;
    }
  }
  return lo < 0 ? std::pair<int64_t, int64_t>{0, -1} : std::pair<int64_t, int64_t>{lo, hi};
}

}  // namespace lits
