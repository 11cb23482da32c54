// BatchNorm2d / GroupNorm: parameters, buffers and forward.
#include "layers/norm.h"

#include "engine/autograd.h"

namespace lits {

BatchNorm2d::BatchNorm2d(int64_t channels, double momentum, double eps, Generator& gen)
    : Module("BatchNorm2d"), momentum_(momentum), eps_(eps) {
  LITS_CHECK(channels >= 1, "BatchNorm2d(" << channels << "): channels must be >= 1");
  weight_ = uniform({channels}, 0.0, 1.0, gen);
  bias_ = Tensor::zeros({channels});
  running_mean_ = Tensor::zeros({channels});
  running_var_ = Tensor::ones({channels});
  register_parameter("weight", &weight_);
  register_parameter("bias", &bias_);
  register_buffer("running_mean", &running_mean_);
  register_buffer("running_var", &running_var_);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (sync_ != nullptr)
    return sync_batch_norm(x, weight_, bias_, running_mean_, running_var_, is_training(), momentum_, eps_, *sync_);
  return batch_norm(x, weight_, bias_, running_mean_, running_var_, is_training(), momentum_, eps_);
}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps) : Module("GroupNorm"), groups_(groups), eps_(eps) {
  LITS_CHECK(
      groups >= 1 && channels >= 1 && channels % groups == 0,
      "GroupNorm(groups=" << groups << ", channels=" << channels << "): channels must be divisible by the group count");
  weight_ = Tensor::ones({channels});
  bias_ = Tensor::zeros({channels});
  register_parameter("weight", &weight_);
  register_parameter("bias", &bias_);
}

Tensor GroupNorm::forward(const Tensor& x) { return group_norm(x, weight_, bias_, groups_, eps_); }

}  // namespace lits
