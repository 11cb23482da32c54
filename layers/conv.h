// Conv2d and ConvTranspose2d modules (weights in PyTorch layouts, "weight" and "bias").
#pragma once

#include "engine/ops.h"
#include "layers/init.h"
#include "layers/module.h"

namespace lits {

class Conv2d : public Module {
 public:
  // weight [out, in, k, k] by `init`, bias 0 (the reference's conv initialisation).
  Conv2d(int64_t in, int64_t out, int64_t kernel, ConvParams params = {}, bool bias = true,
         InitType init = InitType::kHeNormal, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  const ConvParams& params() const { return params_; }

 private:
  ConvParams params_;
  Tensor weight_, bias_;
};

class ConvTranspose2d : public Module {
 public:
  // weight [in, out, k, k] and bias: PyTorch's default U(-1/sqrt(n), 1/sqrt(n)), n = in * k * k.
  ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, ConvParams params = {}, bool bias = true,
                  Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  const ConvParams& params() const { return params_; }

 private:
  ConvParams params_;
  Tensor weight_, bias_;
};

}  // namespace lits
