// BatchNorm2d and GroupNorm modules.
#pragma once

#include "engine/comm.h"
#include "engine/ops.h"
#include "layers/module.h"

namespace lits {

class BatchNorm2d : public Module {
 public:
  // weight U(0, 1) as PyTorch 0.4.1 (the reference's version) initialised it, bias 0; running
  // mean 0, running variance 1. Buffers "running_mean", "running_var".
  explicit BatchNorm2d(int64_t channels, double momentum = 0.1, double eps = 1e-5,
                       Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  // Synchronized BatchNorm: training statistics over every rank's samples (engine/comm.h's
  // sync_batch_norm); null (the default) uses this rank's batch only.
  void set_sync(Communicator* comm) { sync_ = comm; }

 private:
  double momentum_, eps_;
  Tensor weight_, bias_, running_mean_, running_var_;
  Communicator* sync_ = nullptr;
};

class GroupNorm : public Module {
 public:
  // weight 1, bias 0. `channels` must be divisible by `groups`.
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  int64_t groups() const { return groups_; }

 private:
  int64_t groups_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace lits
