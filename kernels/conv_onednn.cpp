// oneDNN (v2 API, Debian's 2.6) convolutions in float32. The engine's tensors are plain NCHW /
// OIHW, but oneDNN's direct JIT kernels want channel-blocked layouts (nChw8c on AVX2): with plain
// layouts it falls back to im2col + GEMM, which on the Small preset's first encoder conv runs the
// forward at half and the backward passes at a quarter of the blocked kernels' speed (figures in
// docs/performance.md). So every primitive is created with format `any`, and plain buffers are
// reordered into the layout it chose and back; those reorders cost a few percent of the
// convolution. oneDNN takes dilation as "extra" pixels (d - 1) and an explicit right padding,
// chosen so its output size equals PyTorch's floor formula when the stride does not divide the
// padded extent.
//
// Per thread, and kept for the life of the thread: the primitives of each shape (creating a
// primitive descriptor costs more than a small convolution), and one scratch arena holding the
// blocked copies and oneDNN's own scratchpad, so a training step allocates nothing here.
#include "kernels/conv.h"

#if LITS_HAVE_ONEDNN
#include <omp.h>
#include <dnnl.hpp>

#include <array>
#include <map>
#include <memory>
#include <new>
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

// Grow-only buffers, one per role, 64-byte aligned (a cache line, and what the JIT kernels load).
class Arena {
 public:
  enum Slot { kSrc, kWeights, kDst, kScratchpad, kSlots };
  void* get(Slot slot, size_t bytes) {
    Buffer& b = buffers_[slot];
    if (b.bytes < bytes) {
      b.data.reset(static_cast<char*>(::operator new (bytes, std::align_val_t{64})));
      b.bytes = bytes;
    }
    return b.data.get();
  }

 private:
  struct Free {
    void operator()(char* p) const { ::operator delete (p, std::align_val_t{64}); }
  };
  struct Buffer {
    std::unique_ptr<char, Free> data;
    size_t bytes = 0;
  };
  std::array<Buffer, kSlots> buffers_;
};

Arena& arena() {
  static thread_local Arena a;
  return a;
}

struct Descs {
  memory::desc src, weights, dst, bias;
  memory::dims strides, dilates, pad_l, pad_r;
};

// `tag_any`: let the primitive choose the layouts (src, weights, dst); plain otherwise.
Descs make_descs(const ConvShape& s, bool tag_any) {
  Descs d;
  d.src = memory::desc({s.N, s.Ci, s.H, s.W}, kF32, tag_any ? Tag::any : Tag::nchw);
  d.weights = memory::desc({s.Co, s.Ci, s.K, s.K}, kF32, tag_any ? Tag::any : Tag::oihw);
  d.dst = memory::desc({s.N, s.Co, s.Ho, s.Wo}, kF32, tag_any ? Tag::any : Tag::nchw);
  d.bias = memory::desc({s.Co}, kF32, Tag::x);
  d.strides = {s.stride, s.stride};
  d.dilates = {s.dil - 1, s.dil - 1};
  d.pad_l = {s.pad, s.pad};
  d.pad_r = {conv_pad_right(s.H, s.Ho, s.K, s.stride, s.pad, s.dil),
             conv_pad_right(s.W, s.Wo, s.K, s.stride, s.pad, s.dil)};
  return d;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool with_bias) {
  using F = dnnl::convolution_forward;
  const auto prop = dnnl::prop_kind::forward_training;
  const auto alg = dnnl::algorithm::convolution_direct;
  if (with_bias)
    return F::primitive_desc(
        F::desc(prop, alg, d.src, d.weights, d.bias, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r), user_scratchpad(),
        cpu().engine);
  return F::primitive_desc(F::desc(prop, alg, d.src, d.weights, d.dst, d.strides, d.dilates, d.pad_l, d.pad_r),
                           user_scratchpad(), cpu().engine);
}

// One operand of a primitive: the plain layout the engine holds, the layout the primitive chose,
// and the reorder between them (absent when they are the same).
struct Operand {
  memory::desc plain, chosen;
  dnnl::reorder reorder;
  bool reordered = false;
};

// `into_chosen`: the operand is read by the primitive (plain -> chosen); else it is written by it.
Operand make_operand(const memory::desc& plain, const memory::desc& chosen, bool into_chosen) {
  Operand op{plain, chosen, {}, plain != chosen};
  if (op.reordered) {
    const auto& e = cpu().engine;
    op.reorder = into_chosen ? dnnl::reorder(dnnl::reorder::primitive_desc(e, plain, e, chosen))
                             : dnnl::reorder(dnnl::reorder::primitive_desc(e, chosen, e, plain));
  }
  return op;
}

memory wrap(const memory::desc& md, const void* p) { return memory(md, cpu().engine, const_cast<void*>(p)); }

// The buffer the primitive reads: `p` itself, or its reordered copy in the arena.
memory input(Operand& op, const float* p, Arena::Slot slot) {
  if (!op.reordered) return wrap(op.plain, p);
  memory to = wrap(op.chosen, arena().get(slot, op.chosen.get_size()));
  op.reorder.execute(cpu().stream, {{DNNL_ARG_FROM, wrap(op.plain, p)}, {DNNL_ARG_TO, to}});
  return to;
}

// The buffer the primitive writes: `p` itself, or an arena buffer copied to `p` by finish().
memory output(const Operand& op, float* p, Arena::Slot slot) {
  return op.reordered ? wrap(op.chosen, arena().get(slot, op.chosen.get_size())) : wrap(op.plain, p);
}
void finish(Operand& op, const memory& written, float* p) {
  if (op.reordered) op.reorder.execute(cpu().stream, {{DNNL_ARG_FROM, written}, {DNNL_ARG_TO, wrap(op.plain, p)}});
}

// A primitive with its three operands (in the order src/diff_src, weights/diff_weights,
// dst/diff_dst) and its scratchpad size.
struct Plan {
  dnnl::primitive primitive;
  std::array<Operand, 3> ops;
  memory::desc scratchpad;
};

enum class Kind { kForward, kForwardBias, kBackwardData, kBackwardWeight };

Plan make_plan(const ConvShape& s, Kind kind) {
  const Descs plain = make_descs(s, false), any = make_descs(s, true);
  const auto fwd = forward_pd(any, kind == Kind::kForwardBias);
  const auto alg = dnnl::algorithm::convolution_direct;
  Plan p;
  if (kind == Kind::kForward || kind == Kind::kForwardBias) {
    p.primitive = dnnl::convolution_forward(fwd);
    p.ops = {make_operand(plain.src, fwd.src_desc(), true), make_operand(plain.weights, fwd.weights_desc(), true),
             make_operand(plain.dst, fwd.dst_desc(), false)};
    p.scratchpad = fwd.scratchpad_desc();
  } else if (kind == Kind::kBackwardData) {
    using B = dnnl::convolution_backward_data;
    const B::primitive_desc pd(
        B::desc(alg, any.src, any.weights, any.dst, any.strides, any.dilates, any.pad_l, any.pad_r), user_scratchpad(),
        cpu().engine, fwd);
    p.primitive = B(pd);
    p.ops = {make_operand(plain.src, pd.diff_src_desc(), false), make_operand(plain.weights, pd.weights_desc(), true),
             make_operand(plain.dst, pd.diff_dst_desc(), true)};
    p.scratchpad = pd.scratchpad_desc();
  } else {
    using B = dnnl::convolution_backward_weights;
    const B::primitive_desc pd(
        B::desc(alg, any.src, any.weights, any.dst, any.strides, any.dilates, any.pad_l, any.pad_r), user_scratchpad(),
        cpu().engine, fwd);
    p.primitive = B(pd);
    p.ops = {make_operand(plain.src, pd.src_desc(), true), make_operand(plain.weights, pd.diff_weights_desc(), false),
             make_operand(plain.dst, pd.diff_dst_desc(), true)};
    p.scratchpad = pd.scratchpad_desc();
  }
  return p;
}

// Keyed by the thread count too: oneDNN splits the work among the threads when it creates a
// primitive, which must then run with that many.
Plan& plan(const ConvShape& s, Kind kind) {
  using Key = std::array<int64_t, 13>;
  static thread_local std::map<Key, Plan> plans;
  const Key key{s.N,
                s.Ci,
                s.H,
                s.W,
                s.Co,
                s.K,
                s.Ho,
                s.Wo,
                s.stride,
                s.pad,
                s.dil,
                static_cast<int64_t>(kind),
                omp_get_max_threads()};
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, make_plan(s, kind)).first;
  return it->second;
}

void execute(Plan& p, std::unordered_map<int, memory>& args) {
  args.emplace(DNNL_ARG_SCRATCHPAD, wrap(p.scratchpad, arena().get(Arena::kScratchpad, p.scratchpad.get_size())));
  p.primitive.execute(cpu().stream, args);
}

}  // namespace

void conv2d_forward_onednn(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  Plan& p = plan(s, bias ? Kind::kForwardBias : Kind::kForward);
  const memory dst = output(p.ops[2], y, Arena::kDst);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, input(p.ops[0], x, Arena::kSrc)},
                                          {DNNL_ARG_WEIGHTS, input(p.ops[1], w, Arena::kWeights)},
                                          {DNNL_ARG_DST, dst}};
  if (bias) args.emplace(DNNL_ARG_BIAS, wrap(memory::desc({s.Co}, kF32, Tag::x), bias));
  execute(p, args);
  finish(p.ops[2], dst, y);
  cpu().stream.wait();
}

void conv2d_backward_data_onednn(const ConvShape& s, const float* dy, const float* w, float* dx) {
  Plan& p = plan(s, Kind::kBackwardData);
  const memory diff_src = output(p.ops[0], dx, Arena::kSrc);
  std::unordered_map<int, memory> args = {{DNNL_ARG_DIFF_DST, input(p.ops[2], dy, Arena::kDst)},
                                          {DNNL_ARG_WEIGHTS, input(p.ops[1], w, Arena::kWeights)},
                                          {DNNL_ARG_DIFF_SRC, diff_src}};
  execute(p, args);
  finish(p.ops[0], diff_src, dx);
  cpu().stream.wait();
}

void conv2d_backward_weight_onednn(const ConvShape& s, const float* x, const float* dy, float* dw) {
  Plan& p = plan(s, Kind::kBackwardWeight);
  const memory diff_weights = output(p.ops[1], dw, Arena::kWeights);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, input(p.ops[0], x, Arena::kSrc)},
                                          {DNNL_ARG_DIFF_DST, input(p.ops[2], dy, Arena::kDst)},
                                          {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
  execute(p, args);
  finish(p.ops[1], diff_weights, dw);
  cpu().stream.wait();
}

}  // namespace lits::kernels

#endif  // LITS_HAVE_ONEDNN
