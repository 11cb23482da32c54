// Bucketed, overlapped gradient all-reduce (see grad_reducer.h).
#include "pipeline/dist/grad_reducer.h"

#include "engine/autograd.h"
#include "engine/error.h"

namespace lits {

GradReducer::GradReducer(std::vector<Tensor> params, Communicator& comm, int64_t bucket_bytes)
    : params_(std::move(params)), comm_(comm), bucket_bytes_(bucket_bytes) {
  LITS_CHECK(!params_.empty(), "gradient reducer: no parameters");
  LITS_CHECK(bucket_bytes >= 1, "gradient reducer: bucket size " << bucket_bytes << " bytes (expected 1 or more)");
  const DType dtype = params_[0].dtype();
  for (size_t k = 0; k < params_.size(); ++k) {
    const Tensor& p = params_[k];
    LITS_CHECK(p.dtype() == dtype && p.device() == comm.device() && p.is_leaf() && p.requires_grad(),
               "gradient reducer: parameter " << k << " is " << p.str() << " (expected leaves requiring grad, "
                                              << dtype_name(dtype) << " on " << comm.device().str() << ")");
  }
  bucket_of_.resize(params_.size());
  ready_.resize(params_.size());
  // Reverse order: the output end's parameters get their gradients first.
  std::vector<size_t> order;
  for (size_t k = params_.size(); k-- > 0;) order.push_back(k);
  layout(order, params_.size());
  for (size_t k = 0; k < params_.size(); ++k) params_[k].set_grad_ready_hook([this, k] { on_ready(k); });
}

void GradReducer::layout(const std::vector<size_t>& order, size_t used) {
  buckets_.clear();
  int64_t bytes = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t k = order[i];
    const Tensor& p = params_[k];
    // Parameters without a gradient (from `used` on) get buckets of their own, started by finish().
    if (buckets_.empty() || bytes + p.nbytes() > bucket_bytes_ || i == used) {
      if (buckets_.empty() || !buckets_.back().params.empty()) buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += p.nbytes();
  }
  for (Bucket& b : buckets_) {
    const int64_t n = b.offsets.back() + params_[b.params.back()].numel();
    b.flat = Tensor::empty({n}, params_[0].dtype(), comm_.device());
  }
}

GradReducer::~GradReducer() {
  for (const Tensor& p : params_) p.set_grad_ready_hook(nullptr);
}

Tensor GradReducer::view(const Bucket& b, size_t k) const {
  const Shape& shape = params_[b.params[k]].shape();
  return make_view(b.flat, shape, shape.contiguous_strides(), b.offsets[k]);
}

void GradReducer::begin() {
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    b.ticket = -1;
  }
  std::fill(ready_.begin(), ready_.end(), false);
  next_launch_ = 0;
  overlapped_ = 0;
  active_ = true;
}

void GradReducer::on_ready(size_t param) {
  if (!active_ || ready_[param]) return;
  ready_[param] = true;
  --buckets_[bucket_of_[param]].pending;
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    launch(next_launch_++);
    ++overlapped_;
  }
}

void GradReducer::launch(size_t index) {
  Bucket& b = buckets_[index];
  NoGradGuard no_grad;
  for (size_t k = 0; k < b.params.size(); ++k) {
    const Tensor& g = params_[b.params[k]].grad();
    Tensor v = view(b, k);
    if (g.defined()) {
      v.copy_(g);
    } else {
      v.fill_(0.0);
    }
  }
  b.ticket = comm_.all_reduce_async(b.flat);
}

void GradReducer::finish() {
  LITS_CHECK(active_, "gradient reducer: finish() without begin()");
  while (next_launch_ < buckets_.size()) launch(next_launch_++);
  // Which parameters got a gradient on some rank (same on every rank unless a rank had no samples).
  std::vector<double> had(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) had[k] = params_[k].grad().defined() ? 1.0 : 0.0;
  comm_.all_reduce_host(had);
  NoGradGuard no_grad;
  for (Bucket& b : buckets_) {
    comm_.wait(b.ticket);
    for (size_t k = 0; k < b.params.size(); ++k) {
      const Tensor& p = params_[b.params[k]];
      if (had[b.params[k]] == 0.0) continue;
      if (p.grad().defined()) {
        Tensor g = p.grad();
        g.copy_(view(b, k));
      } else {
        p.set_grad(view(b, k).clone());
      }
    }
  }
  active_ = false;
  if (!learned_) {
    // After the first step: parameters no rank gave a gradient (an unused layer) would hold their
    // bucket back until finish() every step; they move to buckets of their own at the end, so the
    // others can start during backward. (Should one get a gradient later, its bucket still starts in
    // finish(): late, never wrong.)
    learned_ = true;
    std::vector<size_t> order, unused;
    for (size_t k = params_.size(); k-- > 0;) (had[k] != 0.0 ? order : unused).push_back(k);
    if (!unused.empty()) {
      const size_t used = order.size();
      order.insert(order.end(), unused.begin(), unused.end());
      layout(order, used);
    }
  }
}

}  // namespace lits
