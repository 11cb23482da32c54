// The communicator's host helpers, the local (one-rank) communicator, the differentiable all_reduce and
// the synchronized BatchNorm composed from it (see comm.h).
#include "engine/comm.h"

#include <cstdio>
#include <cstdlib>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace lits {

void Communicator::all_reduce_host(std::vector<double>& values) {
  if (values.empty()) return;
  const Tensor t = Tensor::from_values(values, {static_cast<int64_t>(values.size())}, DType::kFloat64).to(device());
  all_reduce(t);
  values = t.to_vector();
}

void Communicator::broadcast_host(std::string& bytes, int root) {
  const Tensor size = Tensor::from_ints({static_cast<int64_t>(bytes.size())}, {1}).to(device());
  broadcast(size, root);
  const int64_t n = size.to_ints()[0];
  if (n == 0) {
    bytes.clear();
    return;
  }
  Tensor host = Tensor::empty({n}, DType::kUInt8);
  if (rank() == root) std::copy(bytes.begin(), bytes.end(), host.data<uint8_t>());
  const Tensor dev = host.to(device());
  broadcast(dev, root);
  host = dev.to(Device::cpu());
  bytes.assign(reinterpret_cast<const char*>(host.data<uint8_t>()), static_cast<size_t>(n));
}

int64_t LocalCommunicator::all_reduce_async(const Tensor& t) {
  LITS_CHECK(t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64,
             "all_reduce of " << t.str() << " (expected float32 or float64)");
  return 0;
}

void LocalCommunicator::broadcast(const Tensor&, int root) {
  LITS_CHECK(root == 0, "broadcast from rank " << root << " in a job of 1 rank");
}

void LocalCommunicator::abort(const std::string& why) {
  std::fprintf(stderr, "lits: %s\n", why.c_str());
  std::fflush(stderr);
  std::exit(1);
}

Tensor all_reduce(const Tensor& x, Communicator& comm) {
  LITS_CHECK(x.device() == comm.device(),
             "all_reduce of " << x.str() << " on a communicator of " << comm.device().str());
  Tensor out = x.detach().clone();
  comm.all_reduce(out);
  if (any_requires_grad({x})) {
    Communicator* c = &comm;
    record_op("all_reduce", {x}, {out}, [c](const std::vector<Tensor>& g) -> std::vector<Tensor> {
      Tensor gx = g[0].clone();
      c->all_reduce(gx);
      return {gx};
    });
  }
  return out;
}

Tensor sync_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum, double eps, Communicator& comm) {
  if (!training) return batch_norm(x, gamma, beta, running_mean, running_var, training, momentum, eps);
  LITS_CHECK(x.ndim() == 4, "sync_batch_norm of " << x.str() << " (expected [N, C, H, W])");
  const int64_t c = x.shape()[1];
  std::vector<double> count{static_cast<double>(x.numel() / c)};
  comm.all_reduce_host(count);
  const double m = count[0];
  LITS_CHECK(m > 1, "sync_batch_norm: " << m << " values per channel over all ranks (expected more than 1)");
  const Shape bc{1, c, 1, 1};
  const Tensor mean = scale(all_reduce(sum(x, {0, 2, 3}), comm), 1.0 / m);
  const Tensor xc = x - reshape(mean, bc);
  const Tensor var = scale(all_reduce(sum(xc * xc, {0, 2, 3}), comm), 1.0 / m);
  // 1 / sqrt(var + eps) as exp(-log(.) / 2): the ops at hand, differentiable.
  const Tensor inv_std = exp(scale(log(var + Tensor::full({c}, eps, x.dtype(), x.device())), -0.5));
  const Tensor y = xc * reshape(inv_std * gamma, bc) + reshape(beta, bc);
  if (running_mean.defined()) {
    NoGradGuard no_grad;
    Tensor rm = running_mean, rv = running_var;  // handles to the buffers
    rm.copy_(scale(running_mean, 1.0 - momentum) + scale(mean.detach(), momentum));
    rv.copy_(scale(running_var, 1.0 - momentum) + scale(var.detach(), momentum * m / (m - 1.0)));
  }
  return y;
}

}  // namespace lits
