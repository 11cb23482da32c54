// The inference forward as CUDA graphs (see unet_graph.h).
#include "models/unet_graph.h"

#include "engine/autograd.h"
#include "engine/error.h"

namespace lits {

GraphedForward::GraphedForward(UNet& net, bool capture) : net_(net), capture_(capture) {
  const auto params = net.parameters();
  LITS_CHECK(!params.empty() && params[0].device().is_cuda(),
             "inference as CUDA graphs needs the network on a CUDA device");
  device_ = params[0].device();
  LITS_CHECK(!net.is_training(),
             "inference as CUDA graphs needs the network in eval mode (running statistics, "
             "no dropout: a replay would repeat a batch's draws)");
}

Tensor GraphedForward::run(const Tensor& x, double fill) {
  NoGradGuard no_grad;
  Entry& e = entries_[x.shape().vec()];
  if (!e.input.defined()) e.input = Tensor::empty(x.shape(), x.dtype(), device_);
  e.input.copy_(x);
  const auto forward = [&] { e.output = net_.run_padded(e.input, fill).out; };
  if (!capture_ || e.runs < 1) {
    forward();
  } else {
    if (!e.graph) {
      e.graph = std::make_unique<cuda::Graph>(device_);
      e.graph->capture(forward);
      ++captures_;
    }
    e.graph->replay();
    ++replays_;
  }
  ++e.runs;
  return e.output;
}

}  // namespace lits
