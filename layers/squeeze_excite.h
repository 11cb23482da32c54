// Squeeze-excitation as the reference has it (docs/reference.md section 2.8):
//   z = global average pool (N, C); h = LeakyReLU_0.05(fc1(z)), fc1: C -> int(C * r);
//   s = sigmoid(fc2(h)), fc2: int(C * r) -> C;  output = x * s per channel.
// r is a multiplicative width ratio (0.5 halves), not the SE paper's divisor.
#pragma once

#include "layers/linear.h"
#include "layers/module.h"

namespace lits {

class SqueezeExcitation : public Module {
 public:
  SqueezeExcitation(int64_t channels, double ratio, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Linear> fc1_, fc2_;
};

}  // namespace lits
