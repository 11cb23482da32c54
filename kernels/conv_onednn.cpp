// oneDNN (v2 API, Debian's 2.6) convolutions in float32 on plain NCHW / OIHW buffers. oneDNN's
// own primitive cache makes re-creating the primitive per call cheap. oneDNN takes dilation as
// "extra" pixels (d - 1) and an explicit right padding, chosen so its output size equals PyTorch's
// floor formula when the stride does not divide the padded extent.
#include "kernels/conv.h"

#if LITS_HAVE_ONEDNN
#include <dnnl.hpp>

#include <unordered_map>

namespace lits::kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

struct Cpu {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

Cpu& cpu() {
  static thread_local Cpu c;
  return c;
}

struct Descs {
  memory::desc src, weights, dst, bias;
  memory::dims strides, dilates, pad_l, pad_r;
};

Descs make_descs(const ConvShape& s) {
  Descs d;
  d.src = memory::desc({s.N, s.Ci, s.H, s.W}, kF32, Tag::nchw);
  d.weights = memory::desc({s.Co, s.Ci, s.K, s.K}, kF32, Tag::oihw);
  d.dst = memory::desc({s.N, s.Co, s.Ho, s.Wo}, kF32, Tag::nchw);
  d.bias = memory::desc({s.Co}, kF32, Tag::x);
  d.strides = {s.stride, s.stride};
  d.dilates = {s.dil - 1, s.dil - 1};
  d.pad_l = {s.pad, s.pad};
  const int64_t extent = (s.K - 1) * s.dil + 1;
  d.pad_r = {(s.Ho - 1) * s.stride + extent - s.H - s.pad, (s.Wo - 1) * s.stride + extent - s.W - s.pad};
  return d;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool with_bias) {
  using F = dnnl::convolution_forward;
  const auto prop = dnnl::prop_kind::forward_training;
  const auto alg = dnnl::algorithm::convolution_direct;
  if (with_bias)
    return F::primitive_desc(
        F::desc(prop, alg, d.src, d.weights, d.bias, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r), cpu().engine);
  return F::primitive_desc(F::desc(prop, alg, d.src, d.weights, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r),
                           cpu().engine);
}

memory wrap(const memory::desc& md, const float* p) { return memory(md, cpu().engine, const_cast<float*>(p)); }

}  // namespace

void conv2d_forward_onednn(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  const Descs d = make_descs(s);
  const auto pd = forward_pd(d, bias != nullptr);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, wrap(d.src, x)}, {DNNL_ARG_WEIGHTS, wrap(d.weights, w)}, {DNNL_ARG_DST, wrap(d.dst, y)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, wrap(d.bias, bias));
  dnnl::convolution_forward(pd).execute(cpu().stream, args);
  cpu().stream.wait();
}

void conv2d_backward_data_onednn(const ConvShape& s, const float* dy, const float* w, float* dx) {
  using B = dnnl::convolution_backward_data;
  const Descs d = make_descs(s);
  const auto hint = forward_pd(d, false);
  const B::primitive_desc pd(
      B::desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r),
      cpu().engine, hint);
  B(pd).execute(cpu().stream, {{DNNL_ARG_DIFF_DST, wrap(d.dst, dy)},
                               {DNNL_ARG_WEIGHTS, wrap(d.weights, w)},
                               {DNNL_ARG_DIFF_SRC, wrap(d.src, dx)}});
  cpu().stream.wait();
}

void conv2d_backward_weight_onednn(const ConvShape& s, const float* x, const float* dy, float* dw) {
  using B = dnnl::convolution_backward_weights;
  const Descs d = make_descs(s);
  const auto hint = forward_pd(d, false);
  const B::primitive_desc pd(
      B::desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r),
      cpu().engine, hint);
  B(pd).execute(cpu().stream, {{DNNL_ARG_SRC, wrap(d.src, x)},
                               {DNNL_ARG_DIFF_DST, wrap(d.dst, dy)},
                               {DNNL_ARG_DIFF_WEIGHTS, wrap(d.weights, dw)}});
  cpu().stream.wait();
}

}  // namespace lits::kernels

#endif  // LITS_HAVE_ONEDNN
