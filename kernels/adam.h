// Adam as the reference's PyTorch 0.4.1 runs it, L2 weight decay added to the gradient:
//   g' = g + wd p;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//   p -= step_size m / (sqrt(v) + eps),  step_size = lr sqrt(1 - b2^t) / (1 - b1^t)
// fused over every parameter of a network in one call: a table of (param, grad, m, v, n) slots, one
// launch on CUDA (slot = blockIdx.y), one parallel loop on the CPU.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lits::kernels {

template <typename T>
struct AdamSlot {
  T* param;       // [n]
  const T* grad;  // [n]
  T* m;           // [n] first moment
  T* v;           // [n] second moment
  int64_t n;
};

// Per step, computed once on the host in double.
struct AdamScalars {
  double beta1, beta2, eps, weight_decay;
  double step_size;  // lr * sqrt(1 - beta2^t) / (1 - beta1^t)
};

LITS_HD float adam_sqrt(float x) { return sqrtf(x); }
// Finite: not NaN (x == x) and not infinite (|x| within the largest finite value).
template <typename T>
LITS_HD bool adam_finite(T x) {
  return x == x && (x < T(0) ? -x : x) <= (sizeof(T) == 4 ? T(3.4028234663852886e38) : T(1.7976931348623157e308));
}
LITS_HD double adam_sqrt(double x) { return ::sqrt(x); }

template <typename T>
LITS_HD void adam_update_at(const AdamSlot<T>& s, int64_t i, T b1, T b2, T eps, T wd, T step_size) {
  const T g = s.grad[i] + wd * s.param[i];
  const T m = b1 * s.m[i] + (T(1) - b1) * g;
  const T v = b2 * s.v[i] + (T(1) - b2) * g * g;
  s.m[i] = m;
  s.v[i] = v;
  s.param[i] -= step_size * m / (adam_sqrt(v) + eps);
}

// ---- CPU (adam.cpp); T = float or double; `slots` in host memory ----
template <typename T>
void adam_step_cpu(const AdamSlot<T>* slots, int64_t count, const AdamScalars& a);

// The scalars in the parameters' type, as the CUDA kernel reads them from device memory: a CUDA graph
// replays the launch with whatever was written there before it (the step size changes every step).
template <typename T>
struct AdamDeviceScalars {
  T beta1, beta2, eps, weight_decay, step_size;
};
template <typename T>
AdamDeviceScalars<T> adam_device_scalars(const AdamScalars& a) {
  return {static_cast<T>(a.beta1), static_cast<T>(a.beta2), static_cast<T>(a.eps), static_cast<T>(a.weight_decay),
          static_cast<T>(a.step_size)};
}

// ---- CUDA (adam.cu); `slots` (count entries) and `a` in device memory, max_n = the largest slot's n.
// `guard` (device memory, or null): when *guard is not finite (a NaN or infinite loss) nothing changes, so
// a bad step inside a CUDA graph never reaches the weights. ----
template <typename T>
Status adam_step_cuda(const AdamSlot<T>* slots, int64_t count, int64_t max_n, const AdamDeviceScalars<T>* a,
                      const T* guard, Stream s);

}  // namespace lits::kernels
