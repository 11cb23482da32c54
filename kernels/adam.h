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

// ---- CUDA (adam.cu); `slots` in device memory (count entries), max_n = the largest slot's n ----
template <typename T>
Status adam_step_cuda(const AdamSlot<T>* slots, int64_t count, int64_t max_n, const AdamScalars& a, Stream s);

}  // namespace lits::kernels
