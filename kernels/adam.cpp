// CPU Adam step over all slots (the math is adam_update_at in adam.h, shared with adam.cu).
#include "kernels/adam.h"

#include "kernels/parallel.h"

namespace lits::kernels {

template <typename T>
void adam_step_cpu(const AdamSlot<T>* slots, int64_t count, const AdamScalars& a) {
  const T b1 = static_cast<T>(a.beta1), b2 = static_cast<T>(a.beta2), eps = static_cast<T>(a.eps);
  const T wd = static_cast<T>(a.weight_decay), step = static_cast<T>(a.step_size);
  for (int64_t k = 0; k < count; ++k) {
    const AdamSlot<T>& s = slots[k];
    parallel_for(s.n, [&](int64_t i) { adam_update_at(s, i, b1, b2, eps, wd, step); });
  }
}

template void adam_step_cpu<float>(const AdamSlot<float>*, int64_t, const AdamScalars&);
template void adam_step_cpu<double>(const AdamSlot<double>*, int64_t, const AdamScalars&);

}  // namespace lits::kernels
