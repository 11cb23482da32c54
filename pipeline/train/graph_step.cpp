// The training step as a CUDA graph (see graph_step.h).
#include "pipeline/train/graph_step.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "layers/loss.h"

namespace lits {

GraphedStep::GraphedStep(const StepConfig& config, AdamOptimizer& adam, int warmup, bool capture)
    : config_(config), adam_(adam), warmup_(std::max(warmup, 1)), capture_(capture) {
  const std::string why = unsupported(config);
  LITS_CHECK(why.empty(), "a training step as a CUDA graph: " << why);
}

GraphedStep::~GraphedStep() = default;

std::string GraphedStep::unsupported(const StepConfig& c) {
  if (!c.device.is_cuda()) return "it needs a CUDA device, not " + c.device.str();
  if (c.reducer != nullptr) return "data-parallel training reduces gradients between ranks outside the graph";
  if (c.plan != nullptr && c.plan->net.dropout > 0.0)
    return "dropout draws new masks every step from the host's random stream, which a replay would repeat";
  return "";
}

std::unique_ptr<GraphedStep> GraphedStep::make_if_supported(const StepConfig& config, AdamOptimizer& adam,
                                                            std::string* why) {
  *why = unsupported(config);
  return why->empty() ? std::make_unique<GraphedStep>(config, adam) : nullptr;
}

void GraphedStep::resize_inputs(const Batch& b) {
  graph_.reset();
  runs_ = 0;
  input_shape_ = b.input.shape();
  weight_shape_ = b.weightmap.defined() ? b.weightmap.shape() : Shape{};
  x_ = Tensor::empty(b.input.shape(), b.input.dtype(), config_.device);
  t_ = Tensor::empty(b.target.shape(), b.target.dtype(), config_.device);
  w_ = b.weightmap.defined() ? Tensor::empty(b.weightmap.shape(), b.weightmap.dtype(), config_.device) : Tensor();
}

// What the loss checks on the device, done on the host copy (the loader's batch).
void GraphedStep::check_targets(const Batch& b) const {
  const Tensor t = b.target.device().is_cpu() ? b.target : b.target.to(Device::cpu());
  const int64_t* v = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i)
    LITS_CHECK(v[i] >= 0 && v[i] < classes_,
               "training step: target " << t.str() << " has the value " << v[i] << " outside [0, " << classes_ << ")");
}

std::vector<const void*> GraphedStep::grad_addresses() const {
  std::vector<const void*> out;
  for (const Tensor& p : config_.net->parameters()) out.push_back(p.grad().defined() ? p.grad().data_ptr() : nullptr);
  return out;
}

void GraphedStep::body() {
  for (const Tensor& p : config_.net->parameters())
    if (p.grad().defined()) Tensor(p.grad()).fill_(0.0);
  const UNetOutput out = config_.net->run(x_);
  const TrainPlan& plan = *config_.plan;
  const Tensor loss = deep_supervision_loss(plan.loss, out.out, out.aux, t_, w_, plan.loss_options);
  loss.backward();
  guard_.copy_(reshape(loss.detach(), {1}));
  adam_.launch();
  out_ = out.out.detach();
}

StepResult GraphedStep::run(const Batch& b, double lr) {
  if (b.size() == 0) return StepResult{};
  const Shape weight_shape = b.weightmap.defined() ? b.weightmap.shape() : Shape{};
  if (!x_.defined() || b.input.shape() != input_shape_ || weight_shape != weight_shape_) resize_inputs(b);
  StepResult r;
  // The plain path when no step has run yet, or when a gradient it created was released since (zero_grad):
  // the device path zeroes gradients in place and Adam's table needs them all.
  bool plain = !guard_.defined();
  if (!plain) {
    const std::vector<const void*> now = grad_addresses();
    for (size_t k = 0; k < now.size() && !plain; ++k) plain = had_grad_[k] && now[k] == nullptr;
  }
  if (plain) {
    graph_.reset();
    runs_ = 0;
    // The plain path once: it creates the gradients, and tells the classes the targets must be in.
    r = train_step(config_, b);
    if (std::isfinite(r.loss)) adam_.step(lr);
    const int64_t k = config_.net->config().num_out_classes;
    classes_ = k == 1 ? 2 : k;
    if (!guard_.defined()) guard_ = Tensor::zeros({1}, DType::kFloat32, config_.device);
    had_grad_.clear();
    for (const void* g : grad_addresses()) had_grad_.push_back(g != nullptr);
    return r;
  }
  check_targets(b);
  // Gradients released or replaced since the capture (zero_grad, a loaded checkpoint) end the graph: it
  // would write where they were.
  if (graph_ && grad_addresses() != captured_grads_) {
    graph_.reset();
    runs_ = 0;
  }
  x_.copy_(b.input);
  t_.copy_(b.target);
  if (w_.defined()) w_.copy_(b.weightmap);
  adam_.prepare_launch(lr, guard_);
  if (!capture_ || runs_ < warmup_) {
    body();
  } else {
    if (!graph_) {
      graph_ = std::make_unique<cuda::Graph>(config_.device);
      graph_->capture([this] { body(); });
      captured_grads_ = grad_addresses();
      ++captures_;
    }
    graph_->replay();
    ++replays_;
  }
  ++runs_;
  r.loss = guard_.item();
  adam_.commit(std::isfinite(r.loss));
  if (config_.overlap) {
    const Tensor host_out = out_.to(Device::cpu());
    for (int64_t s = 0; s < host_out.shape()[0]; ++s) r.overlap += overlap_of(host_out, b.target, Tensor(), s);
  }
  return r;
}

}  // namespace lits
