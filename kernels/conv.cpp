// CPU reference convolution: im2col + GEMM per sample. The column matrix col [Ci*K*K, Ho*Wo]
// holds, for each kernel tap (ci, kh, kw), the input pixel each output position reads (0 where the
// tap falls in the padding). col2im is written as a gather over input pixels, so backward-data is
// deterministic and needs no atomics; backward-weight sums the samples in order.
#include <cstddef>
#include <vector>

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace lits::kernels {
namespace {

// x_n [Ci, H, W] -> col [Ci*K*K, Ho*Wo]
template <typename T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t taps = s.Ci * s.K * s.K, hw = s.Ho * s.Wo;
  parallel_for(
      taps,
      [&](int64_t r) {
        const int64_t kw = r % s.K, kh = (r / s.K) % s.K, ci = r / (s.K * s.K);
        const T* plane = x + ci * s.H * s.W;
        T* out = col + r * hw;
        for (int64_t oh = 0; oh < s.Ho; ++oh) {
          const int64_t ih = oh * s.stride - s.pad + kh * s.dil;
          T* row = out + oh * s.Wo;
          if (ih < 0 || ih >= s.H) {
            for (int64_t ow = 0; ow < s.Wo; ++ow) row[ow] = T(0);
            continue;
          }
          for (int64_t ow = 0; ow < s.Wo; ++ow) {
            const int64_t iw = ow * s.stride - s.pad + kw * s.dil;
            row[ow] = (iw >= 0 && iw < s.W) ? plane[ih * s.W + iw] : T(0);
          }
        }
      },
      4);
}

// col [Ci*K*K, Ho*Wo] -> dx_n [Ci, H, W]: each input pixel sums the taps that read it.
template <typename T>
void col2im(const ConvShape& s, const T* col, T* dx) {
  const int64_t hw = s.Ho * s.Wo;
  parallel_for(
      s.Ci * s.H,
      [&](int64_t r) {
        const int64_t ci = r / s.H, ih = r % s.H;
        for (int64_t iw = 0; iw < s.W; ++iw) {
          T acc = T(0);
          for (int64_t kh = 0; kh < s.K; ++kh) {
            const int64_t th = ih + s.pad - kh * s.dil;  // = oh * stride
            if (th < 0 || th % s.stride != 0) continue;
            const int64_t oh = th / s.stride;
            if (oh >= s.Ho) continue;
            for (int64_t kw = 0; kw < s.K; ++kw) {
              const int64_t tw = iw + s.pad - kw * s.dil;
              if (tw < 0 || tw % s.stride != 0) continue;
              const int64_t ow = tw / s.stride;
              if (ow >= s.Wo) continue;
              acc += col[((ci * s.K + kh) * s.K + kw) * hw + oh * s.Wo + ow];
            }
          }
          dx[(ci * s.H + ih) * s.W + iw] = acc;
        }
      },
      4);
}

}  // namespace

template <typename T>
void conv2d_forward_cpu(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const int64_t taps = s.Ci * s.K * s.K, hw = s.Ho * s.Wo;
  std::vector<T> col(static_cast<std::size_t>(taps * hw));
  for (int64_t n = 0; n < s.N; ++n) {
    im2col(s, x + n * s.Ci * s.H * s.W, col.data());
    T* yn = y + n * s.Co * hw;
    gemm_cpu(false, false, s.Co, hw, taps, w, col.data(), yn);
    if (bias) {
      parallel_for(
          s.Co,
          [&](int64_t co) {
            for (int64_t i = 0; i < hw; ++i) yn[co * hw + i] += bias[co];
          },
          4);
    }
  }
}

template <typename T>
void conv2d_backward_data_cpu(const ConvShape& s, const T* dy, const T* w, T* dx) {
  const int64_t taps = s.Ci * s.K * s.K, hw = s.Ho * s.Wo;
  std::vector<T> col(static_cast<std::size_t>(taps * hw));
  for (int64_t n = 0; n < s.N; ++n) {
    gemm_cpu(true, false, taps, hw, s.Co, w, dy + n * s.Co * hw, col.data());  // w^T dy_n
    col2im(s, col.data(), dx + n * s.Ci * s.H * s.W);
  }
}

template <typename T>
void conv2d_backward_weight_cpu(const ConvShape& s, const T* x, const T* dy, T* dw) {
  const int64_t taps = s.Ci * s.K * s.K, hw = s.Ho * s.Wo;
  std::vector<T> col(static_cast<std::size_t>(taps * hw)), part(static_cast<std::size_t>(s.Co * taps));
  for (int64_t n = 0; n < s.N; ++n) {
    im2col(s, x + n * s.Ci * s.H * s.W, col.data());
    T* target = n == 0 ? dw : part.data();
    gemm_cpu(false, true, s.Co, taps, hw, dy + n * s.Co * hw, col.data(), target);  // dy_n col^T
    if (n > 0) parallel_for(s.Co * taps, [&](int64_t i) { dw[i] += part[i]; });
  }
  if (s.N == 0) parallel_for(s.Co * taps, [&](int64_t i) { dw[i] = T(0); });
}

#define LITS_INSTANTIATE(T)                                                                \
  template void conv2d_forward_cpu<T>(const ConvShape&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_data_cpu<T>(const ConvShape&, const T*, const T*, T*);     \
  template void conv2d_backward_weight_cpu<T>(const ConvShape&, const T*, const T*, T*);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
