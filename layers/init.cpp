// Initialisers (see init.h).
#include "layers/init.h"

#include <cmath>

#include "engine/autograd.h"

namespace lits {

InitType parse_init_type(const std::string& name) {
  if (name == "he_n") return InitType::kHeNormal;
  if (name == "he_u") return InitType::kHeUniform;
  if (name == "xavier_n") return InitType::kXavierNormal;
  if (name == "xavier_u") return InitType::kXavierUniform;
  LITS_THROW("init_type '" << name << "': expected one of he_n, he_u, xavier_n, xavier_u");
}

const char* init_type_name(InitType type) {
  switch (type) {
    case InitType::kHeNormal: return "he_n";
    case InitType::kHeUniform: return "he_u";
    case InitType::kXavierNormal: return "xavier_n";
    case InitType::kXavierUniform: return "xavier_u";
  }
  return "?";
}

void init_conv_weight(Tensor& weight, InitType type, Generator& gen) {
  LITS_CHECK(weight.ndim() == 4, "init_conv_weight: " << weight.str() << " (expected [Cout, Cin, k, k])");
  const double receptive = static_cast<double>(weight.shape()[2] * weight.shape()[3]);
  const double fan_in = static_cast<double>(weight.shape()[1]) * receptive;
  const double fan_out = static_cast<double>(weight.shape()[0]) * receptive;
  NoGradGuard no_grad;
  switch (type) {
    case InitType::kHeNormal: weight.normal_(0.0, std::sqrt(2.0 / fan_in), gen); break;
    case InitType::kHeUniform: {
      const double bound = std::sqrt(6.0 / fan_in);
      weight.uniform_(-bound, bound, gen);
      break;
    }
    case InitType::kXavierNormal: weight.normal_(0.0, std::sqrt(2.0 / (fan_in + fan_out)), gen); break;
    case InitType::kXavierUniform: {
      const double bound = std::sqrt(6.0 / (fan_in + fan_out));
      weight.uniform_(-bound, bound, gen);
      break;
    }
  }
}

void init_pytorch_default(Tensor& t, int64_t n, Generator& gen) {
  LITS_CHECK(n > 0, "init_pytorch_default: fan " << n << " (expected > 0)");
  const double bound = 1.0 / std::sqrt(static_cast<double>(n));
  NoGradGuard no_grad;
  t.uniform_(-bound, bound, gen);
}

}  // namespace lits
