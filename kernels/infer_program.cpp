// The inference program on oneDNN (v2 API, Debian's 2.6); see infer_program.h.
#include "kernels/infer_program.h"

#include "kernels/conv.h"

#include <stdexcept>

#if LITS_HAVE_ONEDNN
#include <omp.h>
#include <dnnl.hpp>

#include <algorithm>
#include <new>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace lits::kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr int64_t kAlign = 4096;  // arena offsets: whole pages, so values never share a cache line

struct Free {
  void operator()(char* p) const { ::operator delete (p, std::align_val_t{64}); }
};
using Buffer = std::unique_ptr<char, Free>;
Buffer allocate(size_t bytes) { return Buffer(static_cast<char*>(::operator new (bytes, std::align_val_t{64}))); }

memory::desc plain(const memory::dims& d) { return memory::desc(d, kF32, Tag::nchw); }
memory::desc per_channel(int64_t c) { return memory::desc({1, c, 1, 1}, kF32, Tag::nchw); }

// The plain or channel-blocked tag of an activation's layout (Tag::undef if none of those).
Tag tag_of(const memory::desc& md) {
  for (Tag t : {Tag::nChw8c, Tag::nChw16c, Tag::nchw, Tag::nhwc})
    if (memory::desc(md.dims(), kF32, t) == md) return t;
  return Tag::undef;
}

// The layout of a per-channel operand [1, C, 1, 1] for a binary on `md`. oneDNN 2.6 runs a binary
// in JIT code only when the operand has the activation's own layout; with any other (plain, or a
// scalar) it runs its reference code, 20 times slower. A blocked operand whose channels do not
// fill the last block gives wrong results though (seen on 28 channels in nChw8c), so those keep
// the plain, slow operand.
memory::desc channel_operand(const memory::desc& md) {
  const int64_t C = md.dims()[1];
  const Tag t = tag_of(md);
  const int64_t block = t == Tag::nChw8c ? 8 : t == Tag::nChw16c ? 16 : 1;
  if (t == Tag::undef || C % block != 0) return memory::desc({1, C, 1, 1}, kF32, Tag::nchw);
  return memory::desc({1, C, 1, 1}, kF32, t);
}

std::string dims_str(const memory::dims& d) {
  std::ostringstream s;
  for (size_t i = 0; i < d.size(); ++i) s << (i ? "x" : "") << d[i];
  return s.str();
}

}  // namespace

struct InferProgram::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  int threads = omp_get_max_threads();

  struct Value {
    memory::desc desc;
    int def = -1, last = -1;  // the steps that write it first and read it last
    int64_t offset = -1;      // in the arena; the input and output are the caller's buffers
    memory mem;
  };
  struct Step {
    dnnl::primitive primitive;
    std::string what;
    std::vector<std::pair<int, int>> args;     // (DNNL argument, value)
    std::unordered_map<int, memory> bound;     // weights, bias, post-op operands; from finish() on, every
                                               // argument, as execute() takes them
    std::vector<std::shared_ptr<void>> owned;  // the buffers of the constants
    memory::desc scratchpad;
  };
  std::vector<Value> values;
  std::vector<Step> steps;
  int output = -1;
  Buffer arena, scratch;
  int64_t arena_size = 0, scratch_size = 0, weights = 0, reorders = 0;
  bool finished = false;

  int new_value(const memory::desc& md) {
    values.push_back(Value{md, static_cast<int>(steps.size()), static_cast<int>(steps.size()), -1, {}});
    return static_cast<int>(values.size()) - 1;
  }
  Value& value(int v) {
    if (v < 0 || v >= static_cast<int>(values.size()))
      throw std::invalid_argument("InferProgram: no value " + std::to_string(v));
    return values[static_cast<size_t>(v)];
  }
  // Records that the step about to be added reads `v`.
  void read(int v) { value(v).last = static_cast<int>(steps.size()); }

  dnnl::primitive_attr attr(const dnnl::post_ops& po = {}) {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    a.set_post_ops(po);
    return a;
  }

  // A constant buffer of the step: `data` (plain layout `from`) reordered into `to`.
  memory constant(Step& st, const memory::desc& from, const memory::desc& to, const float* data) {
    std::shared_ptr<char> buf(allocate(to.get_size()).release(), Free{});
    memory dst(to, engine, buf.get());
    memory src(from, engine, const_cast<float*>(data));
    dnnl::reorder(src, dst).execute(stream, src, dst);
    stream.wait();
    st.owned.push_back(buf);
    return dst;
  }

  // `v` in layout `want`: itself, or a reordered copy made by a new step.
  int as_layout(int v, const memory::desc& want) {
    if (value(v).desc == want) return v;
    Step st;
    st.primitive = dnnl::reorder(dnnl::reorder::primitive_desc(engine, value(v).desc, engine, want));
    st.what = "reorder " + dims_str(want.dims());
    read(v);
    const int to = new_value(want);
    st.args = {{DNNL_ARG_FROM, v}, {DNNL_ARG_TO, to}};
    steps.push_back(std::move(st));
    ++reorders;
    return to;
  }

  // oneDNN post-ops for `posts`, with their operands recorded on `st`.
  dnnl::post_ops post_ops(const std::vector<InferPost>& posts, int64_t channels, const memory::desc& dst, Step& st,
                          std::vector<std::pair<int, int>>& value_args) {
    dnnl::post_ops po;
    for (const InferPost& p : posts) {
      const int index = po.len();
      const int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1;
      if (p.kind == InferPost::Kind::kLeakyRelu) {
        po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, p.slope, 0.0f);
      } else if (p.kind == InferPost::Kind::kAdd) {
        po.append_binary(dnnl::algorithm::binary_add, dst);
        value_args.emplace_back(arg, p.value);
      } else {
        if (static_cast<int64_t>(p.scale.size()) != channels || static_cast<int64_t>(p.shift.size()) != channels)
          throw std::invalid_argument("InferProgram: affine of " + std::to_string(p.scale.size()) + " channels on " +
                                      std::to_string(channels));
        po.append_binary(dnnl::algorithm::binary_mul, per_channel(channels));
        st.bound[arg] = constant(st, per_channel(channels), per_channel(channels), p.scale.data());
        po.append_binary(dnnl::algorithm::binary_add, per_channel(channels));
        const int arg2 = DNNL_ARG_ATTR_MULTIPLE_POST_OP(index + 1) | DNNL_ARG_SRC_1;
        st.bound[arg2] = constant(st, per_channel(channels), per_channel(channels), p.shift.data());
      }
    }
    return po;
  }

  // A primitive with one source and one new destination value.
  int unary(dnnl::primitive primitive, const dnnl::primitive_desc_base& pd, int src, std::string what) {
    Step st;
    st.primitive = std::move(primitive);
    st.what = std::move(what);
    read(src);
    const int y = new_value(pd.dst_desc(0));
    st.args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, y}};
    add_step(std::move(st), pd);
    return y;
  }

  void add_step(Step st, const dnnl::primitive_desc_base& pd) {
    st.scratchpad = pd.scratchpad_desc();
    st.what += " [" + std::string(pd.impl_info_str()) + "]";
    steps.push_back(std::move(st));
  }
};

bool InferProgram::available() { return true; }

InferProgram::InferProgram(int64_t n, int64_t c, int64_t h, int64_t w) : impl_(std::make_unique<Impl>()) {
  impl_->new_value(plain({n, c, h, w}));
}

InferProgram::~InferProgram() = default;

int InferProgram::conv(int src, InferConv c, std::vector<InferPost> posts) {
  Impl& m = *impl_;
  const memory::dims in = m.value(src).desc.dims();
  const int64_t N = in[0], Ci = in[1], H = in[2], W = in[3], Co = c.out_channels, K = c.kernel;
  // A transposed convolution runs the convolution from its output back to its input.
  const int64_t ext = (K - 1) * c.dilation + 1;
  const int64_t Ho =
      c.transposed ? (H - 1) * c.stride - 2 * c.pad + ext : conv_out_size(H, K, c.stride, c.pad, c.dilation);
  const int64_t Wo =
      c.transposed ? (W - 1) * c.stride - 2 * c.pad + ext : conv_out_size(W, K, c.stride, c.pad, c.dilation);
  if (static_cast<int64_t>(c.weight.size()) != Co * Ci * K * K ||
      (!c.bias.empty() && static_cast<int64_t>(c.bias.size()) != Co) || Ho <= 0 || Wo <= 0)
    throw std::invalid_argument("InferProgram: convolution " + std::to_string(Ci) + " -> " + std::to_string(Co) + " k" +
                                std::to_string(K) + " on " + dims_str(in) + " does not fit its weights");
  // oneDNN: dilation as extra pixels, and an explicit right padding.
  const memory::dims strides{c.stride, c.stride}, dil{c.dilation - 1, c.dilation - 1}, pad_l{c.pad, c.pad};
  const memory::dims pad_r = c.transposed ? memory::dims{conv_pad_right(Ho, H, K, c.stride, c.pad, c.dilation),
                                                         conv_pad_right(Wo, W, K, c.stride, c.pad, c.dilation)}
                                          : memory::dims{conv_pad_right(H, Ho, K, c.stride, c.pad, c.dilation),
                                                         conv_pad_right(W, Wo, K, c.stride, c.pad, c.dilation)};
  const memory::desc any_src({N, Ci, H, W}, kF32, Tag::any), any_w({Co, Ci, K, K}, kF32, Tag::any),
      any_dst({N, Co, Ho, Wo}, kF32, Tag::any), bias_md({Co}, kF32, Tag::x);
  const memory::desc plain_w({Co, Ci, K, K}, kF32, c.transposed ? Tag::iohw : Tag::oihw);
  const auto prop = dnnl::prop_kind::forward_inference;

  // The dst layout (and so the binary post-op operands' layout) is the primitive's choice: ask
  // without post-ops first, then build the real one with that dst.
  auto make_pd = [&](const memory::desc& dst, const dnnl::primitive_attr& a) -> std::unique_ptr<dnnl::primitive_desc> {
    if (c.transposed) {
      using D = dnnl::deconvolution_forward;
      const D::desc d = c.bias.empty() ? D::desc(prop, dnnl::algorithm::deconvolution_direct, any_src, any_w, dst,
                                                 strides, dil, pad_l, pad_r)
                                       : D::desc(prop, dnnl::algorithm::deconvolution_direct, any_src, any_w, bias_md,
                                                 dst, strides, dil, pad_l, pad_r);
      return std::make_unique<D::primitive_desc>(d, a, m.engine);
    }
    using F = dnnl::convolution_forward;
    const F::desc d = c.bias.empty() ? F::desc(prop, dnnl::algorithm::convolution_direct, any_src, any_w, dst, strides,
                                               dil, pad_l, pad_r)
                                     : F::desc(prop, dnnl::algorithm::convolution_direct, any_src, any_w, bias_md, dst,
                                               strides, dil, pad_l, pad_r);
    return std::make_unique<F::primitive_desc>(d, a, m.engine);
  };
  const memory::desc dst_md = make_pd(any_dst, m.attr())->dst_desc(0);
  // A closing affine runs as its own in-place pass where that pass is JIT code: summed over the
  // Small network at 512 x 512 that was 5 % faster than the same affine as binary post-ops.
  InferPost closing;
  const bool split =
      !posts.empty() && posts.back().kind == InferPost::Kind::kAffine && !(channel_operand(dst_md) == per_channel(Co));
  if (split) {
    closing = std::move(posts.back());
    posts.pop_back();
  }
  Impl::Step st;
  std::vector<std::pair<int, int>> post_args;
  const dnnl::post_ops po = m.post_ops(posts, Co, dst_md, st, post_args);
  const auto pd = make_pd(dst_md, m.attr(po));
  const int x = m.as_layout(src, pd->src_desc(0));
  st.primitive = c.transposed ? dnnl::primitive(dnnl::deconvolution_forward(
                                    *static_cast<dnnl::deconvolution_forward::primitive_desc*>(pd.get())))
                              : dnnl::primitive(dnnl::convolution_forward(
                                    *static_cast<dnnl::convolution_forward::primitive_desc*>(pd.get())));
  st.bound[DNNL_ARG_WEIGHTS] = m.constant(st, plain_w, pd->weights_desc(0), c.weight.data());
  m.weights += static_cast<int64_t>(pd->weights_desc(0).get_size());
  if (!c.bias.empty()) st.bound[DNNL_ARG_BIAS] = m.constant(st, bias_md, bias_md, c.bias.data());
  st.what = std::string(c.transposed ? "deconv " : "conv ") + dims_str(in) + " -> " + std::to_string(Co) + " k" +
            std::to_string(K) + " s" + std::to_string(c.stride) + " d" + std::to_string(c.dilation) + " posts " +
            std::to_string(posts.size());
  m.read(x);
  for (const auto& [arg, v] : post_args) {
    if (!(m.value(v).desc == dst_md))
      throw std::invalid_argument("InferProgram: an added value's layout differs from the convolution's output");
    m.read(v);
  }
  const int y = m.new_value(dst_md);
  st.args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}};
  st.args.insert(st.args.end(), post_args.begin(), post_args.end());
  m.add_step(std::move(st), *pd);
  if (split) affine_in_place(y, std::move(closing.scale), std::move(closing.shift));
  return y;
}

int InferProgram::concat(const std::vector<int>& srcs) {
  Impl& m = *impl_;
  std::vector<memory::desc> mds;
  for (int v : srcs) mds.push_back(m.value(v).desc);
  const dnnl::concat::primitive_desc pd(1, mds, m.engine, m.attr());
  Impl::Step st;
  st.primitive = dnnl::concat(pd);
  st.what = "concat " + std::to_string(srcs.size());
  for (size_t i = 0; i < srcs.size(); ++i) {
    m.read(srcs[i]);
    st.args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), srcs[i]);
  }
  const int y = m.new_value(pd.dst_desc());
  st.args.emplace_back(DNNL_ARG_DST, y);
  m.add_step(std::move(st), pd);
  return y;
}

int InferProgram::add(int a, int b) {
  Impl& m = *impl_;
  const memory::desc md = m.value(a).desc;
  const int b2 = m.as_layout(b, md);
  const dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_add, md, md, md), m.attr(),
                                        m.engine);
  Impl::Step st;
  st.primitive = dnnl::binary(pd);
  st.what = "add " + dims_str(md.dims());
  m.read(a);
  m.read(b2);
  const int y = m.new_value(md);
  st.args = {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b2}, {DNNL_ARG_DST, y}};
  m.add_step(std::move(st), pd);
  return y;
}

void InferProgram::affine_in_place(int src, std::vector<float> scale, std::vector<float> shift) {
  Impl& m = *impl_;
  const memory::desc md = m.value(src).desc;
  const int64_t C = md.dims()[1];
  if (static_cast<int64_t>(scale.size()) != C || static_cast<int64_t>(shift.size()) != C)
    throw std::invalid_argument("InferProgram: affine of " + std::to_string(scale.size()) + " channels on " +
                                std::to_string(C));
  // x * scale[c] as a binary with a per-channel operand, + shift[c] as its post-op: one pass, in
  // place.
  const memory::desc scale_md = channel_operand(md);
  Impl::Step st;
  dnnl::post_ops po;
  po.append_binary(dnnl::algorithm::binary_add, per_channel(C));
  st.bound[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
      m.constant(st, per_channel(C), per_channel(C), shift.data());
  st.bound[DNNL_ARG_SRC_1] = m.constant(st, per_channel(C), scale_md, scale.data());
  const dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_mul, md, scale_md, md), m.attr(po),
                                        m.engine);
  st.primitive = dnnl::binary(pd);
  st.what = "affine " + dims_str(md.dims());
  m.read(src);
  st.args = {{DNNL_ARG_SRC_0, src}, {DNNL_ARG_DST, src}};
  m.add_step(std::move(st), pd);
}

int InferProgram::max_pool(int src, int64_t kernel, int64_t stride, int64_t pad) {
  Impl& m = *impl_;
  const memory::desc md = m.value(src).desc;
  const memory::dims d = md.dims();
  const int64_t Ho = (d[2] + 2 * pad - kernel) / stride + 1, Wo = (d[3] + 2 * pad - kernel) / stride + 1;
  const memory::dims pad_r{(Ho - 1) * stride + kernel - d[2] - pad, (Wo - 1) * stride + kernel - d[3] - pad};
  const memory::desc dst({d[0], d[1], Ho, Wo}, kF32, Tag::any);
  using P = dnnl::pooling_forward;
  const P::primitive_desc pd(P::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, md, dst,
                                     {stride, stride}, {kernel, kernel}, {pad, pad}, pad_r),
                             m.attr(), m.engine);
  return m.unary(P(pd), pd, src, "max_pool " + dims_str(d));
}

int InferProgram::upsample_nearest2x(int src) {
  Impl& m = *impl_;
  const memory::desc md = m.value(src).desc;
  const memory::dims d = md.dims();
  const memory::desc dst({d[0], d[1], 2 * d[2], 2 * d[3]}, kF32, Tag::any);
  using R = dnnl::resampling_forward;
  const R::primitive_desc pd(R::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::resampling_nearest, md, dst),
                             m.attr(), m.engine);
  return m.unary(R(pd), pd, src, "upsample_nearest2x " + dims_str(d));
}

void InferProgram::finish(int output) {
  Impl& m = *impl_;
  if (m.finished) throw std::logic_error("InferProgram: finished twice");
  // The result in plain NCHW, written by the last step into the caller's buffer.
  const memory::desc out_md = plain(m.value(output).desc.dims());
  {
    Impl::Step st;
    st.primitive = dnnl::reorder(dnnl::reorder::primitive_desc(m.engine, m.value(output).desc, m.engine, out_md));
    st.what = "reorder to the output";
    m.read(output);
    m.output = m.new_value(out_md);
    st.args = {{DNNL_ARG_FROM, output}, {DNNL_ARG_TO, m.output}};
    m.steps.push_back(std::move(st));
    ++m.reorders;
  }
  m.finished = true;

  // Arena plan: values by size, largest first, each at the lowest offset that no value alive at
  // the same time occupies. The input (value 0) and the output are the caller's buffers.
  std::vector<int> order;
  for (int v = 1; v < static_cast<int>(m.values.size()); ++v)
    if (v != m.output) order.push_back(v);
  auto bytes = [&](int v) {
    return (static_cast<int64_t>(m.values[static_cast<size_t>(v)].desc.get_size()) + kAlign - 1) / kAlign * kAlign;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return bytes(a) > bytes(b); });
  std::vector<int> placed;
  for (int v : order) {
    Impl::Value& x = m.values[static_cast<size_t>(v)];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of overlapping lifetimes
    for (int p : placed) {
      const Impl::Value& y = m.values[static_cast<size_t>(p)];
      if (y.def <= x.last && x.def <= y.last) busy.emplace_back(y.offset, y.offset + bytes(p));
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [b, e] : busy) {
      if (at + bytes(v) <= b) break;
      at = std::max(at, e);
    }
    x.offset = at;
    m.arena_size = std::max(m.arena_size, at + bytes(v));
    placed.push_back(v);
  }
  m.arena = allocate(static_cast<size_t>(std::max<int64_t>(m.arena_size, kAlign)));
  for (const auto& st : m.steps)
    if (st.scratchpad.get_size() > 0)
      m.scratch_size = std::max(m.scratch_size, static_cast<int64_t>(st.scratchpad.get_size()));
  m.scratch = allocate(static_cast<size_t>(std::max<int64_t>(m.scratch_size, 64)));
  for (Impl::Value& value : m.values)
    value.mem = memory(value.desc, m.engine, value.offset >= 0 ? m.arena.get() + value.offset : nullptr);
  // Each step's arguments, bound once: memory objects are handles, so run() pointing the input's
  // and the output's at the caller's buffers reaches every step that uses them.
  for (Impl::Step& st : m.steps) {
    for (const auto& [arg, v] : st.args) st.bound.emplace(arg, m.values[static_cast<size_t>(v)].mem);
    if (st.scratchpad.get_size() > 0)
      st.bound.emplace(DNNL_ARG_SCRATCHPAD, memory(st.scratchpad, m.engine, m.scratch.get()));
  }
}

void InferProgram::run(const float* in, float* out) {
  Impl& m = *impl_;
  if (!m.finished) throw std::logic_error("InferProgram: run before finish");
  if (omp_get_max_threads() != m.threads)
    throw std::invalid_argument("InferProgram: built for " + std::to_string(m.threads) + " threads, run with " +
                                std::to_string(omp_get_max_threads()));
  m.values[0].mem.set_data_handle(const_cast<float*>(in));
  m.values[static_cast<size_t>(m.output)].mem.set_data_handle(out);
  for (Impl::Step& st : m.steps) st.primitive.execute(m.stream, st.bound);
  m.stream.wait();
}

int64_t InferProgram::arena_bytes() const { return impl_->arena_size; }
int64_t InferProgram::weight_bytes() const { return impl_->weights; }
int64_t InferProgram::reorder_count() const { return impl_->reorders; }

std::string InferProgram::describe() const {
  std::ostringstream s;
  for (const auto& st : impl_->steps) s << st.what << "\n";
  return s.str();
}

}  // namespace lits::kernels

#else  // no oneDNN: the fused path is absent and callers keep the op-by-op path

namespace lits::kernels {

struct InferProgram::Impl {};
bool InferProgram::available() { return false; }
InferProgram::InferProgram(int64_t, int64_t, int64_t, int64_t) {
  throw std::logic_error("InferProgram: this build has no oneDNN");
}
InferProgram::~InferProgram() = default;
int InferProgram::conv(int, InferConv, std::vector<InferPost>) { return -1; }
int InferProgram::concat(const std::vector<int>&) { return -1; }
int InferProgram::add(int, int) { return -1; }
int InferProgram::max_pool(int, int64_t, int64_t, int64_t) { return -1; }
int InferProgram::upsample_nearest2x(int) { return -1; }
void InferProgram::affine_in_place(int, std::vector<float>, std::vector<float>) {}
void InferProgram::finish(int) {}
void InferProgram::run(const float*, float*) {}
int64_t InferProgram::arena_bytes() const { return 0; }
int64_t InferProgram::weight_bytes() const { return 0; }
int64_t InferProgram::reorder_count() const { return 0; }
std::string InferProgram::describe() const { return {}; }

}  // namespace lits::kernels

#endif
