// Axial reordering and the spacing check (see orientation.h).
#include "pipeline/infer/orientation.h"

#include <cmath>
#include <cstdio>

#include "engine/error.h"

namespace lits {

namespace {

int axis_of(char letter) {
  switch (letter) {
    case 'L':
    case 'R': return 0;
    case 'A':
    case 'P': return 1;
    case 'S':
    case 'I': return 2;
    default: return -1;
  }
}

}  // namespace

AxisOrder axial_axis_order(const NiftiGeometry& g, const std::string& file) {
  const std::string o = g.orientation();
  AxisOrder order{-1, -1, -1};
  for (int a = 0; a < 3; ++a) {
    const int body = axis_of(o[static_cast<size_t>(a)]);
    LITS_CHECK(body >= 0 && order[static_cast<size_t>(body)] < 0,
               file << ": its voxel axes have no clear body direction (orientation '" << o
                    << "' from its affine); expected axes along left-right, anterior-posterior and "
                       "superior-inferior, such as RAS or LPS");
    order[static_cast<size_t>(body)] = a;
  }
  return order;
}

bool is_identity(const AxisOrder& order) { return order[0] == 0 && order[1] == 1 && order[2] == 2; }

AxisOrder inverse_order(const AxisOrder& order) {
  AxisOrder inv{};
  for (int a = 0; a < 3; ++a) inv[static_cast<size_t>(order[static_cast<size_t>(a)])] = a;
  return inv;
}

std::array<int64_t, 3> reordered_dims(const std::array<int64_t, 3>& dims, const AxisOrder& order) {
  return {dims[static_cast<size_t>(order[0])], dims[static_cast<size_t>(order[1])],
          dims[static_cast<size_t>(order[2])]};
}

template <typename T>
std::vector<T> reorder_axes(const std::vector<T>& in, const std::array<int64_t, 3>& dims, const AxisOrder& order) {
  LITS_CHECK(static_cast<int64_t>(in.size()) == dims[0] * dims[1] * dims[2], "reorder_axes: size");
  if (is_identity(order)) return in;
  const std::array<int64_t, 3> stride{1, dims[0], dims[0] * dims[1]};  // of the file's axes
  const std::array<int64_t, 3> nd = reordered_dims(dims, order);
  const int64_t s0 = stride[static_cast<size_t>(order[0])], s1 = stride[static_cast<size_t>(order[1])],
                s2 = stride[static_cast<size_t>(order[2])];
  std::vector<T> out(in.size());
  size_t p = 0;
  for (int64_t x2 = 0; x2 < nd[2]; ++x2)
    for (int64_t x1 = 0; x1 < nd[1]; ++x1)
      for (int64_t x0 = 0; x0 < nd[0]; ++x0) out[p++] = in[static_cast<size_t>(x0 * s0 + x1 * s1 + x2 * s2)];
  return out;
}

template std::vector<float> reorder_axes(const std::vector<float>&, const std::array<int64_t, 3>&, const AxisOrder&);
template std::vector<uint8_t> reorder_axes(const std::vector<uint8_t>&, const std::array<int64_t, 3>&,
                                           const AxisOrder&);
template std::vector<uint16_t> reorder_axes(const std::vector<uint16_t>&, const std::array<int64_t, 3>&,
                                            const AxisOrder&);

std::string spacing_warning(const std::array<double, 2>& s, const std::array<double, 2>& t, double factor) {
  if (!(t[0] > 0 && t[1] > 0 && s[0] > 0 && s[1] > 0)) return "";
  bool off = false;
  for (int a = 0; a < 2; ++a) off = off || s[a] > factor * t[a] || t[a] > factor * s[a];
  if (!off) return "";
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "in-plane spacing %.3g x %.3g mm differs from the training volumes' %.3g x %.3g mm by more than %.3g "
                "times: the network sees organs at another size than it learned, and its masks may be poor",
                s[0], s[1], t[0], t[1], factor);
  return buf;
}

}  // namespace lits
