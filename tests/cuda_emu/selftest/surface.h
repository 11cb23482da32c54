// Launchers of the emulator's surface kernels (surface.cu), for surface_test.cpp.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace lits::emu_selftest {

struct Counters {
  float f = 0;
  double d = 0;
  int i = 0;
  unsigned long long u = 0;
  int lo = 1 << 30, hi = -1, cas = 0, last = 0;
};

void launch_indices(unsigned* out, dim3 grid, dim3 block);
// kind 0..3: __shfl_sync, __shfl_up_sync, __shfl_down_sync, __shfl_xor_sync over 64 threads.
void launch_shuffle(int* out, int kind, int arg, int width);
void launch_vote(unsigned* out);
void launch_atomics(Counters* c, unsigned blocks);
void launch_dynamic_shared(double* out, unsigned blocks, unsigned threads, size_t bytes);
void launch_unwritten_shared(double* out);
// kind 0: partial barrier, 1: two barrier sites, 2: a shuffle a lane never joins, 3: > 48 KiB shared.
void launch_misuse(int kind);
void launch_config(dim3 grid, dim3 block, size_t bytes, cudaStream_t stream);

}  // namespace lits::emu_selftest
