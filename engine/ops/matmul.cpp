// matmul and linear on GEMM (BLAS / own kernel on the CPU, cuBLAS on CUDA).
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/gemm.h"

namespace lits {

namespace {

// C = op(A) op(B) with the row-major conventions of kernels/gemm.h (float32 in the process's
// precision; the product stays float32); no autograd.
Tensor gemm(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const kernels::MathMode mode = math_mode(a.dtype());
  Tensor ad = dense(a), bd = dense(b);
  if (a.device().is_cpu()) ad = rounded_cpu(ad, mode), bd = rounded_cpu(bd, mode);  // the TF32/bf16 twin
  const int64_t M = ta ? a.shape()[1] : a.shape()[0], K = ta ? a.shape()[0] : a.shape()[1];
  const int64_t N = tb ? b.shape()[0] : b.shape()[1];
  Tensor c = Tensor::empty({M, N}, a.dtype(), a.device());
  if (c.numel() == 0) return c;
  if (K == 0) return c.fill_(0.0);
  LITS_DISPATCH_FLOAT(a.dtype(), op, {
    const scalar_t* pa = ad.data<scalar_t>();
    const scalar_t* pb = bd.data<scalar_t>();
    scalar_t* pc = c.data<scalar_t>();
    if (a.device().is_cpu()) {
      kernels::gemm_cpu(ta, tb, M, N, K, pa, pb, pc);
    } else {
      LITS_CUDA_ONLY(op, a.device(),
                     kernels::gemm_cuda(cuda::context(a.device()).cublas(), ta, tb, M, N, K, pa, pb, pc, mode,
                                        workspace_of(a.device())));
    }
  });
  return c;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_float_input("matmul", a, "a");
  check_float_input("matmul", b, "b");
  check_same_device_dtype("matmul", {a, b});
  LITS_CHECK(a.ndim() == 2 && b.ndim() == 2 && a.shape()[1] == b.shape()[0],
             "matmul: " << a.str() << " x " << b.str() << " (expected [M, K] x [K, N])");
  Tensor out = gemm("matmul", a, b, false, false);
  if (any_requires_grad({a, b})) {
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    const Tensor sa = gb ? dense(a).detach() : Tensor(), sb = ga ? dense(b).detach() : Tensor();
    record_op("matmul", {a, b}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {ga ? gemm("matmul backward", g[0], sb, false, true) : Tensor(),   // g b^T
              gb ? gemm("matmul backward", sa, g[0], true, false) : Tensor()};  // a^T g
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_float_input("linear", x, "x");
  check_float_input("linear", weight, "weight");
  if (bias.defined()) check_float_input("linear", bias, "bias");
  check_same_device_dtype("linear", {x, weight, bias});
  LITS_CHECK(x.ndim() == 2 && weight.ndim() == 2 && x.shape()[1] == weight.shape()[1],
             "linear: x " << x.str() << ", weight " << weight.str() << " (expected x [N, in], weight [out, in])");
  LITS_CHECK(!bias.defined() || (bias.ndim() == 1 && bias.shape()[0] == weight.shape()[0]),
             "linear: bias " << bias.str() << " for weight " << weight.str() << " (expected bias [out])");
  Tensor out;
  {
    NoGradGuard inner;  // the bias add is part of this op's node, not a node of its own
    out = gemm("linear", x, weight, false, true);
    if (bias.defined()) out = add(out, bias);
  }
  if (any_requires_grad({x, weight, bias})) {
    const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
    const Tensor sx = gw ? dense(x).detach() : Tensor(), sw = gx ? dense(weight).detach() : Tensor();
    record_op("linear", {x, weight, bias}, {out}, [=](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      return {gx ? gemm("linear backward", g[0], sw, false, false) : Tensor(),  // g W
              gw ? gemm("linear backward", g[0], sx, true, false) : Tensor(),   // g^T x
              gb ? sum(g[0], {0}) : Tensor()};
    });
  }
  return out;
}

}  // namespace lits
