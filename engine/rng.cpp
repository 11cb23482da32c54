// The default generator (seed 0 until the caller seeds it).
#include "engine/rng.h"

namespace lits {

Generator& default_generator() {
  static Generator g(0);
  return g;
}

}  // namespace lits
