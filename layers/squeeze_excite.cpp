// SqueezeExcitation: the two Linear layers through the engine, the squeeze and the channel scale
// as fused ops.
#include "layers/squeeze_excite.h"

namespace lits {

SqueezeExcitation::SqueezeExcitation(int64_t channels, double ratio, Generator& gen) : Module("SqueezeExcitation") {
  // int(C * r) as Python truncates it.
  const auto hidden = static_cast<int64_t>(static_cast<double>(channels) * ratio);
  LITS_CHECK(channels >= 1 && hidden >= 1, "SqueezeExcitation(channels=" << channels << ", ratio=" << ratio
                                                                         << "): int(C * ratio) = " << hidden
                                                                         << ", expected >= 1");
  fc1_ = register_module("fc1", std::make_shared<Linear>(channels, hidden, true, gen));
  fc2_ = register_module("fc2", std::make_shared<Linear>(hidden, channels, true, gen));
}

Tensor SqueezeExcitation::forward(const Tensor& x) {
  const Tensor z = global_avg_pool(x);
  const Tensor s = sigmoid(fc2_->forward(leaky_relu(fc1_->forward(z), 0.05)));
  return channel_scale(x, s);
}

}  // namespace lits
