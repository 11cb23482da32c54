// Random initialisation factories (Philox: the same numbers on the CPU and CUDA).
#include "engine/ops.h"

namespace lits {

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  t.uniform_(lo, hi, gen);
  return t;
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  t.normal_(mean, std, gen);
  return t;
}

}  // namespace lits
