// batch_norm and group_norm: checks, dispatch to kernels/norm.*, and the fused backward (the
// forward saves mean and 1/std; nothing is recomputed from scratch).
#include "kernels/norm.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace lits {

namespace {

// [N, C, ...] -> (N, C, HW) with HW the product of the trailing dims.
void layout(const Tensor& x, int64_t* n, int64_t* c, int64_t* hw) {
  *n = x.shape()[0];
  *c = x.shape()[1];
  *hw = 1;
  for (int d = 2; d < x.ndim(); ++d) *hw *= x.shape()[d];
}

void check_affine(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  check_float_input(op, x, "input");
  check_float_input(op, gamma, "weight");
  check_float_input(op, beta, "bias");
  check_same_device_dtype(op, {x, gamma, beta});
  LITS_CHECK(x.ndim() >= 2, op << ": input " << x.str() << " (expected [N, C, ...])");
  const Shape c{x.shape()[1]};
  LITS_CHECK(gamma.shape() == c && beta.shape() == c, op << ": weight " << gamma.str() << " and bias " << beta.str()
                                                         << " for input " << x.str() << " (expected both " << c.str()
                                                         << ")");
}

// The gradients a norm's backward writes; each undefined when its input needs none.
struct AffineGrads {
  Tensor dx, dgamma, dbeta;
};

AffineGrads empty_affine_grads(const Tensor& x, int64_t C, bool gx, bool gg, bool gb) {
  AffineGrads a;
  if (gx) a.dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (gg) a.dgamma = Tensor::empty({C}, x.dtype(), x.device());
  if (gb) a.dbeta = Tensor::empty({C}, x.dtype(), x.device());
  return a;
}

template <typename T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// What a norm's backward kernel reads (the forward's input, the output gradient, gamma and the saved
// mean and 1/std) and writes (each gradient null when its input needs none).
template <typename T>
struct NormGrad {
  const T *x, *g, *gamma, *mean, *rstd;
  T *dx, *dgamma, *dbeta;
};

// Records the fused backward of a norm y = norm(x) * gamma + beta; `kernel(const NormGrad<T>&, Device)`
// runs the norm's CPU or CUDA backward kernel. Both norms share everything else.
template <typename Kernel>
void record_norm_backward(const char* op, const char* op_backward, const Tensor& x, const Tensor& gamma,
                          const Tensor& beta, const Tensor& y, const Tensor& xd, const Tensor& gd, const Tensor& mean,
                          const Tensor& rstd, int64_t C, Kernel kernel) {
  const bool gx = x.requires_grad(), gg = gamma.requires_grad(), gb = beta.requires_grad();
  const Tensor sx = xd.detach(), sg = gd.detach();
  record_op(op, {x, gamma, beta}, {y}, [=](const std::vector<Tensor>& grads) -> std::vector<Tensor> {
    const Tensor g = dense(grads[0]);
    const AffineGrads a = empty_affine_grads(sx, C, gx, gg, gb);
    LITS_DISPATCH_FLOAT(sx.dtype(), op_backward, {
      const NormGrad<scalar_t> p{sx.data<scalar_t>(),
                                 g.data<scalar_t>(),
                                 sg.data<scalar_t>(),
                                 mean.data<scalar_t>(),
                                 rstd.data<scalar_t>(),
                                 data_or_null<scalar_t>(a.dx),
                                 data_or_null<scalar_t>(a.dgamma),
                                 data_or_null<scalar_t>(a.dbeta)};
      kernel(p, sx.device());
    });
    return {a.dx, a.dgamma, a.dbeta};
  });
}

}  // namespace

Tensor group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps) {
  check_affine("group_norm", x, gamma, beta);
  int64_t N, C, HW;
  layout(x, &N, &C, &HW);
  LITS_CHECK(groups >= 1 && C % groups == 0, "group_norm: input " << x.str() << " has " << C
                                                                  << " channels, not divisible into " << groups
                                                                  << " groups");
  const Tensor xd = dense(x), gd = dense(gamma), bd = dense(beta);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({N, groups}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({N, groups}, x.dtype(), x.device());
  if (x.numel() > 0) {
    LITS_DISPATCH_FLOAT(x.dtype(), "group_norm", {
      const scalar_t* px = xd.data<scalar_t>();
      const scalar_t* pg = gd.data<scalar_t>();
      const scalar_t* pb = bd.data<scalar_t>();
      scalar_t* py = y.data<scalar_t>();
      scalar_t* pm = mean.data<scalar_t>();
      scalar_t* pr = rstd.data<scalar_t>();
      LITS_RUN_KERNEL("group_norm", x.device(), group_norm_forward, px, pg, pb, py, pm, pr, N, C, HW, groups, eps);
    });
  }
  if (any_requires_grad({x, gamma, beta}))
    record_norm_backward("group_norm", "group_norm backward", x, gamma, beta, y, xd, gd, mean, rstd, C,
                         [=](const auto& p, Device device) {
                           LITS_RUN_KERNEL("group_norm backward", device, group_norm_backward, p.x, p.g, p.gamma,
                                           p.mean, p.rstd, p.dx, p.dgamma, p.dbeta, N, C, HW, groups);
                         });
  return y;
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  check_affine("batch_norm", x, gamma, beta);
  int64_t N, C, HW;
  layout(x, &N, &C, &HW);
  const Shape c{C};
  LITS_CHECK(running_mean.defined() && running_var.defined() && running_mean.shape() == c && running_var.shape() == c &&
                 running_mean.dtype() == x.dtype() && running_var.dtype() == x.dtype() &&
                 running_mean.device() == x.device() && running_var.device() == x.device(),
             "batch_norm: running statistics " << running_mean.str() << ", " << running_var.str() << " for input "
                                               << x.str() << " (expected " << c.str()
                                               << " of the input's dtype and device)");
  LITS_CHECK(!training || N * HW > 1,
             "batch_norm: input " << x.str() << " has one value per channel; training needs more");
  const Tensor xd = dense(x), gd = dense(gamma), bd = dense(beta);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rstd = Tensor::empty(c, x.dtype(), x.device());
  Tensor batch_mean = training ? Tensor::empty(c, x.dtype(), x.device()) : Tensor();
  Tensor batch_var = training ? Tensor::empty(c, x.dtype(), x.device()) : Tensor();
  LITS_DISPATCH_FLOAT(x.dtype(), "batch_norm", {
    const scalar_t* px = xd.data<scalar_t>();
    const scalar_t* pg = gd.data<scalar_t>();
    const scalar_t* pb = bd.data<scalar_t>();
    const scalar_t* prm = running_mean.data<scalar_t>();
    const scalar_t* prv = running_var.data<scalar_t>();
    scalar_t* pbm = training ? batch_mean.data<scalar_t>() : nullptr;
    scalar_t* pbv = training ? batch_var.data<scalar_t>() : nullptr;
    scalar_t* py = y.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
    LITS_RUN_KERNEL("batch_norm", x.device(), batch_norm_forward, px, pg, pb, py, training, prm, prv, pbm, pbv, pr, N,
                    C, HW, eps);
  });
  if (training) {
    // PyTorch's update: the running variance takes the unbiased batch variance.
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(N * HW) / static_cast<double>(N * HW - 1);
    Tensor(running_mean).copy_(add(scale(running_mean, 1.0 - momentum), scale(batch_mean, momentum)));
    Tensor(running_var).copy_(add(scale(running_var, 1.0 - momentum), scale(batch_var, momentum * unbias)));
  }
  if (any_requires_grad({x, gamma, beta})) {
    // The mean the forward used: the batch's, or a snapshot of the running one.
    const Tensor mean = training ? batch_mean : running_mean.clone();
    record_norm_backward("batch_norm", "batch_norm backward", x, gamma, beta, y, xd, gd, mean, rstd, C,
                         [=](const auto& p, Device device) {
                           LITS_RUN_KERNEL("batch_norm backward", device, batch_norm_backward, p.x, p.g, p.gamma,
                                           p.mean, p.rstd, p.dx, p.dgamma, p.dbeta, training, N, C, HW);
                         });
  }
  return y;
}

}  // namespace lits
