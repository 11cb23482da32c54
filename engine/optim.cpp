// The fused Adam step: builds the slot table of kernels/adam.h and runs it on the parameters' device.
#include "engine/optim.h"

#include <cmath>
#include <cstring>

#include "engine/ops/dispatch.h"
#include "kernels/adam.h"

namespace lits {

namespace {

template <typename T>
void run_adam(const std::vector<kernels::AdamSlot<T>>& slots, [[maybe_unused]] int64_t max_n,
              const kernels::AdamScalars& a, Device device) {
  if (device.is_cpu()) {
    kernels::adam_step_cpu(slots.data(), static_cast<int64_t>(slots.size()), a);
    return;
  }
  // The table goes to the device as bytes (the gradients' addresses change every step).
  const int64_t bytes = static_cast<int64_t>(slots.size() * sizeof(kernels::AdamSlot<T>));
  Tensor host = Tensor::empty({bytes}, DType::kUInt8);
  std::memcpy(host.data_ptr(), slots.data(), static_cast<size_t>(bytes));
  const Tensor table = host.to(device);
  [[maybe_unused]] const auto* dev_slots = static_cast<const kernels::AdamSlot<T>*>(table.data_ptr());
  LITS_CUDA_ONLY("adam_step", device,
                 kernels::adam_step_cuda(dev_slots, static_cast<int64_t>(slots.size()), max_n, a, stream));
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
               int64_t step, const AdamHyper& h) {
  const char* op = "adam_step";
  LITS_CHECK(params.size() == m.size() && params.size() == v.size(),
             op << ": " << params.size() << " parameters, " << m.size() << " first and " << v.size()
                << " second moments (expected one of each per parameter)");
  LITS_CHECK(step >= 1, op << ": step " << step << " (the first step is 1)");
  LITS_CHECK(
      h.lr >= 0 && h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1 && h.eps > 0 && h.weight_decay >= 0,
      op << ": lr " << h.lr << ", betas (" << h.beta1 << ", " << h.beta2 << "), eps " << h.eps << ", weight decay "
         << h.weight_decay << " (expected lr >= 0, betas in [0, 1), eps > 0, decay >= 0)");
  if (params.empty()) return;
  const Device device = params[0].device();
  const DType dtype = params[0].dtype();
  kernels::AdamScalars a{h.beta1, h.beta2, h.eps, h.weight_decay, 0.0};
  const double steps = static_cast<double>(step);
  a.step_size = h.lr * std::sqrt(1.0 - std::pow(h.beta2, steps)) / (1.0 - std::pow(h.beta1, steps));

  std::vector<Tensor> grads;  // dense copies stay alive until the step has run
  LITS_DISPATCH_FLOAT(dtype, op, {
    std::vector<kernels::AdamSlot<scalar_t>> slots;
    int64_t max_n = 0;
    for (size_t k = 0; k < params.size(); ++k) {
      const Tensor& p = params[k];
      if (!p.grad().defined()) continue;
      for (const Tensor* t : {&p, &m[k], &v[k]}) {
        LITS_CHECK(t->defined() && t->device() == device && t->dtype() == dtype && t->is_contiguous() &&
                       t->shape() == p.shape(),
                   op << ": parameter " << k << " " << p.str() << " with moment "
                      << (t->defined() ? t->str() : "undefined") << " (expected contiguous tensors of one shape, all "
                      << dtype_name(dtype) << " on " << device.str() << ")");
      }
      const Tensor g = dense(p.grad());
      LITS_CHECK(g.device() == device && g.dtype() == dtype && g.shape() == p.shape(),
                 op << ": parameter " << k << " " << p.str() << " has gradient " << g.str());
      grads.push_back(g);
      slots.push_back(
          {p.data<scalar_t>(), g.data<scalar_t>(), m[k].data<scalar_t>(), v[k].data<scalar_t>(), p.numel()});
      max_n = std::max(max_n, p.numel());
    }
    if (!slots.empty()) run_adam(slots, max_n, a, device);
  });
}

}  // namespace lits
