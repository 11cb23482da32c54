// Linear (fully connected) module: y = x weight^T + bias, PyTorch default initialisation.
#pragma once

#include "engine/ops.h"
#include "layers/module.h"

namespace lits {

class Linear : public Module {
 public:
  // weight [out, in] and bias [out] ~ U(-1/sqrt(in), 1/sqrt(in)).
  Linear(int64_t in, int64_t out, bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

 private:
  Tensor weight_, bias_;
};

}  // namespace lits
