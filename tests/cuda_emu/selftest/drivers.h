// The self-test's drivers: each runs one kernel family of a mutant (or control) unit on the
// emulated device and returns its outputs as doubles. A unit defines LITS_EMU_ENTRY (the function's
// name) and one LITS_EMU_DRIVER_*, and is compiled with `lits` renamed to a name of its own, so the
// units' kernels and the real ones never meet in the linker.
#pragma once

#include <cstdint>
#include <vector>

#include "cuda_emu/emu.h"

namespace lits_emu_mutants {
namespace {

template <typename T>
T* to_device(const std::vector<T>& h) {
  T* d = nullptr;
  cudaMalloc(&d, h.size() * sizeof(T));
  if (!h.empty()) cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  return d;
}

template <typename T>
std::vector<double> from_device(T* d, size_t n) {
  std::vector<T> h(n);
  if (n) cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  cudaFree(d);
  return std::vector<double>(h.begin(), h.end());
}

}  // namespace

// shape {rows, n}: the sum of each row of x [rows, n].
std::vector<double> LITS_EMU_ENTRY(const std::vector<double>& x, const std::vector<int64_t>& shape) {
  double* dx = to_device(x);
#if defined(LITS_EMU_DRIVER_SUM)
  lits::kernels::ReduceIndex ix;
  ix.ndim = 2;
  ix.shape[0] = shape[0], ix.shape[1] = shape[1];
  ix.reduce[1] = true;
  double* dy = to_device(std::vector<double>(static_cast<size_t>(shape[0])));
  lits::kernels::sum_cuda(dx, dy, ix, 1.0, nullptr);
  std::vector<double> out = from_device(dy, static_cast<size_t>(shape[0]));
#elif defined(LITS_EMU_DRIVER_NORM)
  // shape {N, C, HW, G}: GroupNorm forward with gamma 1, beta 0; y, then mean and rstd.
  const int64_t N = shape[0], C = shape[1], HW = shape[2], G = shape[3];
  double* gamma = to_device(std::vector<double>(static_cast<size_t>(C), 1.0));
  double* beta = to_device(std::vector<double>(static_cast<size_t>(C), 0.0));
  double *dy = to_device(x), *mean = to_device(std::vector<double>(static_cast<size_t>(N * G))),
         *rstd = to_device(std::vector<double>(static_cast<size_t>(N * G)));
  lits::kernels::group_norm_forward_cuda(dx, gamma, beta, dy, mean, rstd, N, C, HW, G, 1e-5, nullptr);
  std::vector<double> out = from_device(dy, x.size());
  for (double* d : {mean, rstd})
    for (double v : from_device(d, static_cast<size_t>(N * G))) out.push_back(v);
  cudaFree(gamma);
  cudaFree(beta);
#elif defined(LITS_EMU_DRIVER_SQUEEZE)
  // shape {planes, S}: the mean of each plane.
  double* dy = to_device(std::vector<double>(static_cast<size_t>(shape[0])));
  lits::kernels::global_avg_pool_forward_cuda(dx, dy, shape[0], shape[1], nullptr);
  std::vector<double> out = from_device(dy, static_cast<size_t>(shape[0]));
#elif defined(LITS_EMU_DRIVER_COUNT)
  // shape {classes}: x holds the targets; the count of invalid ones and the first invalid value.
  std::vector<int64_t> t(x.begin(), x.end());
  int64_t* dt = to_device(t);
  int64_t count = -1, first = -1;
  lits::kernels::count_invalid_targets_cuda(dt, static_cast<int64_t>(t.size()), shape[0], &count, &first, nullptr);
  cudaFree(dt);
  std::vector<double> out = {static_cast<double>(count), static_cast<double>(first)};
#elif defined(LITS_EMU_DRIVER_WARP)
  double* dy = to_device(std::vector<double>(static_cast<size_t>(shape[0])));
  lits::emu_selftest::warp_block_sum(dx, shape[0], shape[1], dy);
  std::vector<double> out = from_device(dy, static_cast<size_t>(shape[0]));
#else
#error "a self-test unit names no LITS_EMU_DRIVER_*"
#endif
  cudaFree(dx);
  return out;
}

}  // namespace lits_emu_mutants
