// Conv2d / ConvTranspose2d: parameter set-up and forward.
#include "layers/conv.h"

namespace lits {

namespace {
void check_channels(const char* layer, int64_t in, int64_t out, int64_t kernel) {
  LITS_CHECK(in >= 1 && out >= 1 && kernel >= 1,
             layer << "(" << in << " -> " << out << ", k=" << kernel << "): channels and kernel must be >= 1");
}
}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, ConvParams params, bool bias, InitType init, Generator& gen)
    : Module("Conv2d"), params_(params) {
  check_channels("Conv2d", in, out, kernel);
  weight_ = Tensor::empty({out, in, kernel, kernel});
  init_conv_weight(weight_, init, gen);
  register_parameter("weight", &weight_);
  if (bias) {
    bias_ = Tensor::zeros({out});
    register_parameter("bias", &bias_);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight_, bias_, params_); }

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, ConvParams params, bool bias, Generator& gen)
    : Module("ConvTranspose2d"), params_(params) {
  check_channels("ConvTranspose2d", in, out, kernel);
  weight_ = Tensor::empty({in, out, kernel, kernel});
  init_pytorch_default(weight_, in * kernel * kernel, gen);
  register_parameter("weight", &weight_);
  if (bias) {
    bias_ = Tensor::empty({out});
    init_pytorch_default(bias_, in * kernel * kernel, gen);
    register_parameter("bias", &bias_);
  }
}

Tensor ConvTranspose2d::forward(const Tensor& x) { return conv_transpose2d(x, weight_, bias_, params_); }

}  // namespace lits
