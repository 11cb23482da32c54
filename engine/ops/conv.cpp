// conv2d and conv_transpose2d. Both are built from the three convolution kernels of
// kernels/conv.h; the transposed convolution is the convolution's backward-data (and its
// backward uses the forward and backward-weight with the roles of input and output swapped).
#include "kernels/conv.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

bool g_deterministic = false;

std::string params_str(int64_t k, const ConvParams& p) {
  return "k=" + std::to_string(k) + ", stride=" + std::to_string(p.stride) + ", padding=" + std::to_string(p.padding) +
         ", dilation=" + std::to_string(p.dilation);
}

// `layout` names the weight's dims for messages: "Cout, Cin" (conv) or "Cin, Cout" (transposed).
void check_params(const char* op, const char* layout, const Tensor& x, const Tensor& w, const Tensor& b,
                  const ConvParams& p) {
  check_float_input(op, x, "input");
  check_float_input(op, w, "weight");
  if (b.defined()) check_float_input(op, b, "bias");
  check_same_device_dtype(op, {x, w, b});
  LITS_CHECK(x.ndim() == 4, op << ": input " << x.str() << " (expected [N, C, H, W])");
  LITS_CHECK(w.ndim() == 4 && w.shape()[2] == w.shape()[3] && w.shape()[2] >= 1,
             op << ": weight " << w.str() << " (expected a square kernel, [" << layout << ", k, k])");
  LITS_CHECK(p.stride >= 1 && p.padding >= 0 && p.dilation >= 1,
             op << " (" << params_str(w.shape()[2], p) << "): expected stride >= 1, padding >= 0, dilation >= 1");
}

// CPU entry points: oneDNN for float32 when built with it, the reference kernels otherwise.
void cpu_forward(const kernels::ConvShape& s, const float* x, const float* w, const float* b, float* y) {
#if LITS_HAVE_ONEDNN
  kernels::conv2d_forward_onednn(s, x, w, b, y);
#else
  kernels::conv2d_forward_cpu(s, x, w, b, y);
#endif
}
void cpu_forward(const kernels::ConvShape& s, const double* x, const double* w, const double* b, double* y) {
  kernels::conv2d_forward_cpu(s, x, w, b, y);
}
void cpu_backward_data(const kernels::ConvShape& s, const float* dy, const float* w, float* dx) {
#if LITS_HAVE_ONEDNN
  kernels::conv2d_backward_data_onednn(s, dy, w, dx);
#else
  kernels::conv2d_backward_data_cpu(s, dy, w, dx);
#endif
}
void cpu_backward_data(const kernels::ConvShape& s, const double* dy, const double* w, double* dx) {
  kernels::conv2d_backward_data_cpu(s, dy, w, dx);
}
void cpu_backward_weight(const kernels::ConvShape& s, const float* x, const float* dy, float* dw) {
#if LITS_HAVE_ONEDNN
  kernels::conv2d_backward_weight_onednn(s, x, dy, dw);
#else
  kernels::conv2d_backward_weight_cpu(s, x, dy, dw);
#endif
}
void cpu_backward_weight(const kernels::ConvShape& s, const double* x, const double* dy, double* dw) {
  kernels::conv2d_backward_weight_cpu(s, x, dy, dw);
}

// The operands of one convolution, dense, and on the CPU rounded as the precision's math rounds
// them (the twin of the CUDA path, where cuDNN or the bfloat16 staging rounds).
struct Operands {
  Tensor a, b;
  kernels::MathMode mode;
};
Operands operands(const Tensor& a, const Tensor& b) {
  Operands o{dense(a), dense(b), math_mode(a.dtype())};
  if (a.device().is_cpu()) o.a = rounded_cpu(o.a, o.mode), o.b = rounded_cpu(o.b, o.mode);
  return o;
}

template <typename T>
void add_bias_cpu(const kernels::ConvShape& s, const T* bias, T* y) {
  const int64_t plane = s.Ho * s.Wo;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.Co; ++c) {
      T* p = y + (n * s.Co + c) * plane;
      for (int64_t i = 0; i < plane; ++i) p[i] += bias[c];
    }
}

// y = conv(x, w) + bias (in bf16 the product is rounded before the float32 bias is added, as on CUDA)
void run_forward(const kernels::ConvShape& s, const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  const Operands o = operands(x, w);
  LITS_DISPATCH_FLOAT(x.dtype(), "conv2d", {
    const scalar_t* px = o.a.data<scalar_t>();
    const scalar_t* pw = o.b.data<scalar_t>();
    const scalar_t* pb = bias.defined() ? bias.data<scalar_t>() : nullptr;
    scalar_t* py = y.data<scalar_t>();
    if (x.device().is_cpu()) {
      const bool rounds_product = o.mode == kernels::MathMode::kBf16;
      cpu_forward(s, px, pw, rounds_product ? nullptr : pb, py);
      if (rounds_product) {
        round_product_cpu(y, o.mode);
        if (pb) add_bias_cpu(s, pb, py);
      }
    } else {
      LITS_CUDA_ONLY("conv2d", x.device(),
                     kernels::conv2d_forward_cuda(cuda::context(x.device()).cudnn(), s, px, pw, pb, py,
                                                  workspace_of(x.device()), o.mode));
    }
  });
}

// dx = backward-data(dy, w)
void run_backward_data(const kernels::ConvShape& s, const Tensor& dy, const Tensor& w, const Tensor& dx) {
  const Operands o = operands(dy, w);
  LITS_DISPATCH_FLOAT(dy.dtype(), "conv2d backward-data", {
    const scalar_t* pg = o.a.data<scalar_t>();
    const scalar_t* pw = o.b.data<scalar_t>();
    scalar_t* px = dx.data<scalar_t>();
    if (dy.device().is_cpu()) {
      cpu_backward_data(s, pg, pw, px);
      round_product_cpu(dx, o.mode);
    } else {
      LITS_CUDA_ONLY("conv2d backward-data", dy.device(),
                     kernels::conv2d_backward_data_cuda(cuda::context(dy.device()).cudnn(), s, pg, pw, px,
                                                        workspace_of(dy.device()), g_deterministic, o.mode));
    }
  });
}

// dw = backward-weight(x, dy)
void run_backward_weight(const kernels::ConvShape& s, const Tensor& x, const Tensor& dy, const Tensor& dw) {
  if (s.N == 0 || s.Ho == 0 || s.Wo == 0) {
    Tensor(dw).fill_(0.0);
    return;
  }
  const Operands o = operands(x, dy);
  LITS_DISPATCH_FLOAT(x.dtype(), "conv2d backward-weight", {
    const scalar_t* px = o.a.data<scalar_t>();
    const scalar_t* pg = o.b.data<scalar_t>();
    scalar_t* pw = dw.data<scalar_t>();
    if (x.device().is_cpu()) {
      cpu_backward_weight(s, px, pg, pw);
      round_product_cpu(dw, o.mode);
    } else {
      LITS_CUDA_ONLY("conv2d backward-weight", x.device(),
                     kernels::conv2d_backward_weight_cuda(cuda::context(x.device()).cudnn(), s, px, pg, pw,
                                                          workspace_of(x.device()), g_deterministic, o.mode));
    }
  });
}

Tensor bias_grad(const Tensor& g) { return sum(g, {0, 2, 3}); }

Tensor add_bias(const Tensor& y, const Tensor& bias) { return add(y, reshape(bias, {1, bias.shape()[0], 1, 1})); }

}  // namespace

void set_deterministic_algorithms(bool on) { g_deterministic = on; }
bool deterministic_algorithms() { return g_deterministic; }

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p) {
  check_params("conv2d", "Cout, Cin", x, weight, bias, p);
  const int64_t K = weight.shape()[2];
  LITS_CHECK(x.shape()[1] == weight.shape()[1],
             "conv2d: input " << x.str() << " has " << x.shape()[1] << " channels but weight " << weight.str()
                              << " expects " << weight.shape()[1] << " (weight is [Cout, Cin, k, k])");
  LITS_CHECK(!bias.defined() || bias.shape() == Shape({weight.shape()[0]}),
             "conv2d: bias " << bias.str() << " for weight " << weight.str() << " (expected [Cout])");
  kernels::ConvShape s{x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], weight.shape()[0], K, 0, 0,
                       p.stride,     p.padding,    p.dilation};
  s.Ho = kernels::conv_out_size(s.H, K, p.stride, p.padding, p.dilation);
  s.Wo = kernels::conv_out_size(s.W, K, p.stride, p.padding, p.dilation);
  LITS_CHECK(s.Ho > 0 && s.Wo > 0,
             "conv2d (" << params_str(K, p) << "): input " << x.str()
                        << " gives an empty output (expected H, W + 2*padding >= " << p.dilation * (K - 1) + 1 << ")");
  Tensor y = Tensor::empty({s.N, s.Co, s.Ho, s.Wo}, x.dtype(), x.device());
  if (y.numel() > 0) run_forward(s, x, weight, bias, y);
  if (any_requires_grad({x, weight, bias})) {
    const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
    const Tensor sx = gw ? x.detach() : Tensor(), sw = gx ? weight.detach() : Tensor();
    const DType dt = x.dtype();
    const Device dev = x.device();
    record_op("conv2d", {x, weight, bias}, {y}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor dx, dw;
      if (gx) {
        dx = Tensor::empty({s.N, s.Ci, s.H, s.W}, dt, dev);
        run_backward_data(s, g[0], sw, dx);
      }
      if (gw) {
        dw = Tensor::empty({s.Co, s.Ci, s.K, s.K}, dt, dev);
        run_backward_weight(s, sx, g[0], dw);
      }
      return {dx, dw, gb ? bias_grad(g[0]) : Tensor()};
    });
  }
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p) {
  check_params("conv_transpose2d", "Cin, Cout", x, weight, bias, p);
  const int64_t K = weight.shape()[2];
  LITS_CHECK(x.shape()[1] == weight.shape()[0],
             "conv_transpose2d: input " << x.str() << " has " << x.shape()[1] << " channels but weight " << weight.str()
                                        << " expects " << weight.shape()[0] << " (weight is [Cin, Cout, k, k])");
  LITS_CHECK(!bias.defined() || bias.shape() == Shape({weight.shape()[1]}),
             "conv_transpose2d: bias " << bias.str() << " for weight " << weight.str() << " (expected [Cout])");
  const auto out_size = [&](int64_t in) { return (in - 1) * p.stride - 2 * p.padding + p.dilation * (K - 1) + 1; };
  // The equivalent convolution maps the transposed output [N, Cout, Hout, Wout] back to x.
  kernels::ConvShape s{x.shape()[0],
                       weight.shape()[1],
                       out_size(x.shape()[2]),
                       out_size(x.shape()[3]),
                       weight.shape()[0],
                       K,
                       x.shape()[2],
                       x.shape()[3],
                       p.stride,
                       p.padding,
                       p.dilation};
  LITS_CHECK(s.H > 0 && s.W > 0, "conv_transpose2d (" << params_str(K, p) << "): input " << x.str()
                                                      << " gives an empty output (" << s.H << " x " << s.W << ")");
  Tensor y = Tensor::empty({s.N, s.Ci, s.H, s.W}, x.dtype(), x.device());
  if (y.numel() > 0) run_backward_data(s, x, weight, y);
  if (bias.defined()) {
    NoGradGuard inner;  // part of this op's node
    y = add_bias(y, bias);
  }
  if (any_requires_grad({x, weight, bias})) {
    const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
    const Tensor sx = gw ? x.detach() : Tensor(), sw = gx ? weight.detach() : Tensor();
    const DType dt = x.dtype();
    const Device dev = x.device();
    record_op("conv_transpose2d", {x, weight, bias}, {y}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor dx, dw;
      if (gx) {
        dx = Tensor::empty({s.N, s.Co, s.Ho, s.Wo}, dt, dev);
        run_forward(s, g[0], sw, Tensor(), dx);
      }
      if (gw) {
        dw = Tensor::empty({s.Co, s.Ci, s.K, s.K}, dt, dev);
        run_backward_weight(s, g[0], sx, dw);
      }
      return {dx, dw, gb ? bias_grad(g[0]) : Tensor()};
    });
  }
  return y;
}

}  // namespace lits
