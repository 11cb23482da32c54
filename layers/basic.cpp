// Checks for the parameter-free layers.
#include "layers/basic.h"

namespace lits {

Dropout2d::Dropout2d(double p, Generator& gen) : Module("Dropout2d"), p_(p), gen_(&gen) {
  LITS_CHECK(p >= 0.0 && p < 1.0, "Dropout2d(p=" << p << "): expected 0 <= p < 1");
}

}  // namespace lits
