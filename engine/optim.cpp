// The fused Adam step: builds the slot table of kernels/adam.h and runs it on the parameters' device.
#include "engine/optim.h"

#include <cmath>
#include <cstring>

#include "engine/ops/dispatch.h"
#include "kernels/adam.h"

namespace lits {

namespace {

// The scalars come first in the state bytes, padded so the table after them is aligned.
constexpr int64_t kScalarBytes = 64;
static_assert(sizeof(kernels::AdamDeviceScalars<double>) <= kScalarBytes);

void check_tensors(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
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
}

}  // namespace

void AdamLaunch::prepare(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                         int64_t step, const AdamHyper& h, const Tensor& guard) {
  const char* op = "adam_step";
  check_tensors(params, m, v, step, h);
  count_ = max_n_ = 0;
  params_.clear(), m_.clear(), v_.clear();
  guard_ = Tensor();
  if (params.empty()) return;
  device_ = params[0].device();
  dtype_ = params[0].dtype();
  if (guard.defined())
    LITS_CHECK(
        guard.numel() == 1 && guard.device() == device_ && guard.dtype() == dtype_,
        op << ": guard " << guard.str() << " (expected one " << dtype_name(dtype_) << " on " << device_.str() << ")");
  guard_ = guard;
  kernels::AdamScalars a{h.beta1, h.beta2, h.eps, h.weight_decay, 0.0};
  const double steps = static_cast<double>(step);
  a.step_size = h.lr * std::sqrt(1.0 - std::pow(h.beta2, steps)) / (1.0 - std::pow(h.beta1, steps));
  LITS_DISPATCH_FLOAT(dtype_, op, {
    std::vector<kernels::AdamSlot<scalar_t>> slots;
    for (size_t k = 0; k < params.size(); ++k) {
      const Tensor& p = params[k];
      if (!p.grad().defined()) continue;
      for (const Tensor* t : {&p, &m[k], &v[k]}) {
        LITS_CHECK(t->defined() && t->device() == device_ && t->dtype() == dtype_ && t->is_contiguous() &&
                       t->shape() == p.shape(),
                   op << ": parameter " << k << " " << p.str() << " with moment "
                      << (t->defined() ? t->str() : "undefined") << " (expected contiguous tensors of one shape, all "
                      << dtype_name(dtype_) << " on " << device_.str() << ")");
      }
      const Tensor& g = p.grad();
      LITS_CHECK(g.device() == device_ && g.dtype() == dtype_ && g.shape() == p.shape() && g.is_contiguous(),
                 op << ": parameter " << k << " " << p.str() << " has gradient " << g.str());
      params_.push_back(p), m_.push_back(m[k]), v_.push_back(v[k]);
      slots.push_back(
          {p.data<scalar_t>(), g.data<scalar_t>(), m[k].data<scalar_t>(), v[k].data<scalar_t>(), p.numel()});
      max_n_ = std::max(max_n_, p.numel());
    }
    count_ = static_cast<int64_t>(slots.size());
    // Host bytes: the scalars (in the parameters' type on CUDA, as the kernel reads them; the double
    // originals on the CPU), then the table.
    const int64_t bytes = kScalarBytes + count_ * static_cast<int64_t>(sizeof(kernels::AdamSlot<scalar_t>));
    Tensor host = Tensor::empty({bytes}, DType::kUInt8);
    auto* base = static_cast<char*>(host.data_ptr());
    std::memset(base, 0, static_cast<size_t>(bytes));
    if (device_.is_cpu()) {
      std::memcpy(base, &a, sizeof a);
    } else {
      const kernels::AdamDeviceScalars<scalar_t> d = kernels::adam_device_scalars<scalar_t>(a);
      std::memcpy(base, &d, sizeof d);
    }
    std::memcpy(base + kScalarBytes, slots.data(), slots.size() * sizeof(kernels::AdamSlot<scalar_t>));
    // Into the same device bytes when the size is unchanged: a captured launch keeps their address.
    if (device_.is_cpu())
      state_ = host;
    else if (state_.defined() && state_.device() == device_ && state_.numel() == bytes)
      state_.copy_(host);
    else
      state_ = host.to(device_);
  });
}

void AdamLaunch::launch() const {
  if (count_ == 0) return;
  LITS_DISPATCH_FLOAT(dtype_, "adam_step", {
    const auto* base = static_cast<const char*>(state_.data_ptr());
    const auto* slots = reinterpret_cast<const kernels::AdamSlot<scalar_t>*>(base + kScalarBytes);
    if (device_.is_cpu()) {
      if (guard_.defined() && !std::isfinite(guard_.item())) return;
      kernels::AdamScalars a;
      std::memcpy(&a, base, sizeof a);
      kernels::adam_step_cpu(slots, count_, a);
    } else {
      [[maybe_unused]] const auto* scalars = reinterpret_cast<const kernels::AdamDeviceScalars<scalar_t>*>(base);
      [[maybe_unused]] const scalar_t* guard = guard_.defined() ? guard_.data<scalar_t>() : nullptr;
      [[maybe_unused]] const Device device = device_;
      LITS_CUDA_ONLY("adam_step", device, kernels::adam_step_cuda(slots, count_, max_n_, scalars, guard, stream));
    }
  });
}

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& m, const std::vector<Tensor>& v,
               int64_t step, const AdamHyper& h) {
  AdamLaunch a;
  a.prepare(params, m, v, step, h);
  a.launch();
}

}  // namespace lits
