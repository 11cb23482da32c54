// Weight initialisers of the reference (docs/reference.md section 2.9), drawn from a Philox
// generator so CPU and CUDA initialisations are identical for the same seed.
//   he_n      normal, std = sqrt(2 / fan_in)              (Kaiming normal, fan_in, gain sqrt 2)
//   he_u      uniform, bound = sqrt(6 / fan_in)
//   xavier_n  normal, std = sqrt(2 / (fan_in + fan_out))
//   xavier_u  uniform, bound = sqrt(6 / (fan_in + fan_out))
// fan_in = Cin * k * k and fan_out = Cout * k * k for a conv weight [Cout, Cin, k, k].
// PyTorch 0.4.1 defaults the reference relies on where it does not initialise:
//   ConvTranspose2d weight and bias, Linear weight and bias: U(-1/sqrt(n), 1/sqrt(n)) with
//   n = in_channels * k * k (in_features for Linear);  BatchNorm2d weight U(0, 1), bias 0.
#pragma once

#include <string>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace lits {

enum class InitType { kHeNormal, kHeUniform, kXavierNormal, kXavierUniform };

// "he_n", "he_u", "xavier_n", "xavier_u"; anything else is an error listing the four.
InitType parse_init_type(const std::string& name);
const char* init_type_name(InitType type);

// Fills a conv weight [Cout, Cin, k, k] in place.
void init_conv_weight(Tensor& weight, InitType type, Generator& gen);
// U(-1/sqrt(n), 1/sqrt(n)).
void init_pytorch_default(Tensor& t, int64_t n, Generator& gen);

}  // namespace lits
