// Linear: parameters and forward.
#include "layers/linear.h"

#include "layers/init.h"

namespace lits {

Linear::Linear(int64_t in, int64_t out, bool bias, Generator& gen) : Module("Linear") {
  LITS_CHECK(in >= 1 && out >= 1, "Linear(" << in << " -> " << out << "): sizes must be >= 1");
  weight_ = Tensor::empty({out, in});
  init_pytorch_default(weight_, in, gen);
  register_parameter("weight", &weight_);
  if (bias) {
    bias_ = Tensor::empty({out});
    init_pytorch_default(bias_, in, gen);
    register_parameter("bias", &bias_);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight_, bias_); }

}  // namespace lits
