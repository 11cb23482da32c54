// Broadcast arithmetic (add, sub, mul, div), scale, and the pointwise activations.
#include <algorithm>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/elementwise.h"

namespace lits {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(n);
  for (int i = 0; i < n; ++i) {
    const int da = a.ndim() - n + i, db = b.ndim() - n + i;
    const int64_t sa = da >= 0 ? a[da] : 1, sb = db >= 0 ? b[db] : 1;
    LITS_CHECK(sa == sb || sa == 1 || sb == 1, op << ": shapes " << a.str() << " and " << b.str()
                                                  << " cannot be broadcast (dim " << i << ": " << sa << " vs " << sb
                                                  << "; expected equal sizes or 1)");
    out[i] = sa == 1 ? sb : sa;
  }
  return Shape(out);
}

namespace {

// Strides of `x` seen from an output of shape `out`: right-aligned, 0 along stretched dims.
void broadcast_strides(const Tensor& x, const Shape& out, int64_t* strides) {
  const int n = out.ndim(), k = x.ndim();
  for (int i = 0; i < n; ++i) {
    const int d = k - n + i;
    strides[i] = (d >= 0 && x.shape()[d] != 1) ? x.strides()[d] : 0;
  }
}

Tensor binary_forward(kernels::BinaryOp kind, const char* op, const Tensor& a, const Tensor& b) {
  check_float_input(op, a, "a");
  check_float_input(op, b, "b");
  check_same_device_dtype(op, {a, b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  kernels::BroadcastIndex ix;
  ix.ndim = shape.ndim();
  for (int d = 0; d < shape.ndim(); ++d) ix.shape[d] = shape[d];
  broadcast_strides(a, shape, ix.a_strides);
  broadcast_strides(b, shape, ix.b_strides);
  LITS_DISPATCH_FLOAT(a.dtype(), op, {
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    LITS_RUN_KERNEL(op, a.device(), binary, kind, pa, pb, po, ix);
  });
  return out;
}

Tensor unary_forward(kernels::UnaryOp kind, const char* op, const Tensor& x, double p) {
  check_float_input(op, x);
  const Tensor xd = dense(x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  LITS_DISPATCH_FLOAT(x.dtype(), op, {
    const scalar_t* px = xd.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    const auto pp = static_cast<scalar_t>(p);
    LITS_RUN_KERNEL(op, x.device(), unary_forward, kind, px, py, x.numel(), pp);
  });
  return y;
}

// gx from g and the saved tensor (see kernels::unary_saves_output), all contiguous.
Tensor unary_backward(kernels::UnaryOp kind, const char* op, const Tensor& g, const Tensor& saved, double p) {
  const Tensor gd = dense(g);
  Tensor gx = Tensor::empty(g.shape(), g.dtype(), g.device());
  if (gx.numel() == 0) return gx;
  LITS_DISPATCH_FLOAT(g.dtype(), op, {
    const scalar_t* pg = gd.data<scalar_t>();
    const scalar_t* ps = saved.defined() ? saved.data<scalar_t>() : nullptr;
    scalar_t* px = gx.data<scalar_t>();
    const auto pp = static_cast<scalar_t>(p);
    LITS_RUN_KERNEL(op, g.device(), unary_backward, kind, pg, ps, px, g.numel(), pp);
  });
  return gx;
}

Tensor unary_op(kernels::UnaryOp kind, const char* op, const Tensor& x, double p) {
  Tensor y = unary_forward(kind, op, x, p);
  if (any_requires_grad({x})) {
    Tensor saved;
    if (kind != kernels::UnaryOp::kScale) saved = kernels::unary_saves_output(kind) ? y.detach() : dense(x).detach();
    record_op(op, {x}, {y}, [kind, op, saved, p](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {unary_backward(kind, op, g[0], saved, p)};
    });
  }
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(kernels::BinaryOp::kAdd, "add", a, b);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op("add", {a, b}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {ga ? sum_to(g[0], sa) : Tensor(), gb ? sum_to(g[0], sb) : Tensor()};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(kernels::BinaryOp::kSub, "sub", a, b);
  if (any_requires_grad({a, b})) {
    const Shape sa = a.shape(), sb = b.shape();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record_op("sub", {a, b}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {ga ? sum_to(g[0], sa) : Tensor(), gb ? sum_to(scale(g[0], -1.0), sb) : Tensor()};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(kernels::BinaryOp::kMul, "mul", a, b);
  if (any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    // Each gradient needs the other operand only.
    const Tensor sa = gb ? a.detach() : Tensor(), sb = ga ? b.detach() : Tensor();
    const Shape sha = a.shape(), shb = b.shape();
    record_op("mul", {a, b}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {ga ? sum_to(mul(g[0], sb), sha) : Tensor(), gb ? sum_to(mul(g[0], sa), shb) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(kernels::BinaryOp::kDiv, "div", a, b);
  if (any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    const Tensor sa = gb ? a.detach() : Tensor(), sb = b.detach();
    const Shape sha = a.shape(), shb = b.shape();
    record_op("div", {a, b}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor da, db;
      if (ga) da = sum_to(div(g[0], sb), sha);
      if (gb) db = sum_to(scale(div(mul(g[0], sa), mul(sb, sb)), -1.0), shb);  // -g a / b^2
      return {da, db};
    });
  }
  return out;
}

Tensor scale(const Tensor& x, double factor) { return unary_op(kernels::UnaryOp::kScale, "scale", x, factor); }
Tensor relu(const Tensor& x) { return unary_op(kernels::UnaryOp::kRelu, "relu", x, 0.0); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op(kernels::UnaryOp::kLeakyRelu, "leaky_relu", x, slope);
}
Tensor sigmoid(const Tensor& x) { return unary_op(kernels::UnaryOp::kSigmoid, "sigmoid", x, 0.0); }
Tensor exp(const Tensor& x) { return unary_op(kernels::UnaryOp::kExp, "exp", x, 0.0); }
Tensor log(const Tensor& x) { return unary_op(kernels::UnaryOp::kLog, "log", x, 0.0); }

}  // namespace lits
