// Max pooling (k x k windows, stride s, symmetric padding p) and nearest-neighbour x2 upsampling
// on contiguous [N, C, H, W] planes. Both backward passes gather rather than scatter: each input
// pixel visits the few outputs that can reach it and sums them in a fixed order, so there are no
// atomics and the CPU and CUDA results are bit-identical. The per-element math is in the LITS_HD
// functions below, shared by pool.cpp and pool.cu.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

struct PoolGeometry {
  int64_t planes = 0;  // N * C
  int64_t in_h = 0, in_w = 0;
  int64_t out_h = 0, out_w = 0;
  int64_t kernel = 1, stride = 1, padding = 0;
};

// PyTorch's size rule with ceil_mode off; the caller ensures in + 2 * padding >= kernel.
constexpr int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

// Output element i (row-major over [planes, out_h, out_w]): the window maximum and, when `argmax`
// is non-null, its flat index h * in_w + w in the input plane. Padded positions are skipped, which
// is padding with -inf. Ties go to the first maximum in row-major window order (strict >), so the
// choice does not depend on the device; a NaN wins, as in PyTorch, so it propagates instead of
// being hidden by a comparison that is always false.
template <typename T>
LITS_HD void max_pool_output(const T* x, T* y, int32_t* argmax, const PoolGeometry& g, int64_t i) {
  const int64_t ow = i % g.out_w;
  const int64_t oh = (i / g.out_w) % g.out_h;
  const int64_t plane = i / (g.out_w * g.out_h);
  const T* xp = x + plane * g.in_h * g.in_w;
  const int64_t h0 = oh * g.stride - g.padding, w0 = ow * g.stride - g.padding;
  const int64_t hb = h0 < 0 ? 0 : h0, wb = w0 < 0 ? 0 : w0;
  const int64_t he = h0 + g.kernel < g.in_h ? h0 + g.kernel : g.in_h;
  const int64_t we = w0 + g.kernel < g.in_w ? w0 + g.kernel : g.in_w;
  int64_t best_at = hb * g.in_w + wb;
  T best = xp[best_at];
  for (int64_t h = hb; h < he; ++h) {
    for (int64_t w = wb; w < we; ++w) {
      const T v = xp[h * g.in_w + w];
      if (v > best || (v != v && best == best)) {
        best = v;
        best_at = h * g.in_w + w;
      }
    }
  }
  y[i] = best;
  if (argmax) argmax[i] = static_cast<int32_t>(best_at);
}

// The first and last window (along one axis) whose span [o*s - p, o*s - p + k) holds `pos`.
LITS_HD int64_t first_window(int64_t pos, const PoolGeometry& g) {
  const int64_t a = pos + g.padding - g.kernel + 1;
  return a <= 0 ? 0 : (a + g.stride - 1) / g.stride;
}
LITS_HD int64_t last_window(int64_t pos, int64_t out, const PoolGeometry& g) {
  const int64_t b = (pos + g.padding) / g.stride;
  return b < out - 1 ? b : out - 1;
}

// Input element i (row-major over [planes, in_h, in_w]): the sum of the output gradients of the
// windows whose argmax is this pixel, visited in row-major window order.
template <typename T>
LITS_HD void max_pool_input_grad(const T* gy, const int32_t* argmax, T* gx, const PoolGeometry& g, int64_t i) {
  const int64_t w = i % g.in_w;
  const int64_t h = (i / g.in_w) % g.in_h;
  const int64_t plane = i / (g.in_w * g.in_h);
  const int64_t out_base = plane * g.out_h * g.out_w;
  const int32_t self = static_cast<int32_t>(h * g.in_w + w);
  const int64_t oh1 = last_window(h, g.out_h, g), ow1 = last_window(w, g.out_w, g);
  T acc = T(0);
  for (int64_t oh = first_window(h, g); oh <= oh1; ++oh) {
    for (int64_t ow = first_window(w, g); ow <= ow1; ++ow) {
      const int64_t o = out_base + oh * g.out_w + ow;
      if (argmax[o] == self) acc += gy[o];
    }
  }
  gx[i] = acc;
}

// Output element i of [planes, 2 in_h, 2 in_w] copies input pixel (oh / 2, ow / 2).
template <typename T>
LITS_HD void upsample2x_output(const T* x, T* y, int64_t in_h, int64_t in_w, int64_t i) {
  const int64_t out_w = 2 * in_w;
  const int64_t ow = i % out_w;
  const int64_t oh = (i / out_w) % (2 * in_h);
  const int64_t plane = i / (out_w * 2 * in_h);
  y[i] = x[(plane * in_h + oh / 2) * in_w + ow / 2];
}

// Input element i of [planes, in_h, in_w]: the sum of its 2x2 output block, always in this order.
template <typename T>
LITS_HD void upsample2x_input_grad(const T* gy, T* gx, int64_t in_h, int64_t in_w, int64_t i) {
  const int64_t w = i % in_w;
  const int64_t h = (i / in_w) % in_h;
  const int64_t plane = i / (in_w * in_h);
  const int64_t out_w = 2 * in_w;
  const T* top = gy + (plane * 2 * in_h + 2 * h) * out_w + 2 * w;
  const T* bottom = top + out_w;
  gx[i] = (top[0] + top[1]) + (bottom[0] + bottom[1]);
}

// ---- CPU (pool.cpp); T = float or double ----
// x: [planes, in_h, in_w]; y, argmax: [planes, out_h, out_w]; argmax may be null (no backward).
template <typename T>
void max_pool_forward_cpu(const T* x, T* y, int32_t* argmax, const PoolGeometry& g);
// gy, argmax: [planes, out_h, out_w]; gx: [planes, in_h, in_w]
template <typename T>
void max_pool_backward_cpu(const T* gy, const int32_t* argmax, T* gx, const PoolGeometry& g);
// x: [planes, in_h, in_w]; y: [planes, 2 in_h, 2 in_w]
template <typename T>
void upsample2x_forward_cpu(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w);
// gy: [planes, 2 in_h, 2 in_w]; gx: [planes, in_h, in_w]
template <typename T>
void upsample2x_backward_cpu(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w);

// ---- CUDA (pool.cu), same contracts, launched on `s` ----
template <typename T>
Status max_pool_forward_cuda(const T* x, T* y, int32_t* argmax, const PoolGeometry& g, Stream s);
template <typename T>
Status max_pool_backward_cuda(const T* gy, const int32_t* argmax, T* gx, const PoolGeometry& g, Stream s);
template <typename T>
Status upsample2x_forward_cuda(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w, Stream s);
template <typename T>
Status upsample2x_backward_cuda(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w, Stream s);

}  // namespace lits::kernels
