// Small kernels over the CUDA surface the emulator serves (emu.h), for its own tests
// (surface_test.cpp): built-in indices, warp collectives, atomics, shared memory, launch limits,
// and the misuses it must diagnose. Compiled for the emulated device only.
#include "tests/cuda_emu/selftest/surface.h"

namespace lits::emu_selftest {
namespace {

__global__ void indices_kernel(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned* o = out + 4 * (block * threads + t);
  o[0] = threadIdx.x | threadIdx.y << 8 | threadIdx.z << 16;
  o[1] = blockIdx.x | blockIdx.y << 8 | blockIdx.z << 16;
  o[2] = blockDim.x | blockDim.y << 8 | blockDim.z << 16;
  o[3] = gridDim.x | gridDim.y << 8 | gridDim.z << 16;
}

// Each lane offers 100 * warp + lane.
__global__ void shuffle_kernel(int* out, int kind, int arg, int width) {
  const int lane = threadIdx.x % warpSize, v = 100 * static_cast<int>(threadIdx.x / warpSize) + lane;
  int r = 0;
  if (kind == 0) r = __shfl_sync(0xffffffffu, v, arg, width);
  if (kind == 1) r = __shfl_up_sync(0xffffffffu, v, arg, width);
  if (kind == 2) r = __shfl_down_sync(0xffffffffu, v, arg, width);
  if (kind == 3) r = __shfl_xor_sync(0xffffffffu, v, arg, width);
  out[threadIdx.x] = r;
}

__global__ void vote_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x % warpSize;
  out[4 * threadIdx.x + 0] = __ballot_sync(0xffffffffu, lane % 3 == 0);
  out[4 * threadIdx.x + 1] = static_cast<unsigned>(__any_sync(0xffffffffu, lane == 7));
  out[4 * threadIdx.x + 2] = static_cast<unsigned>(__all_sync(0xffffffffu, lane < 31));
  __syncwarp();
  out[4 * threadIdx.x + 3] = __activemask();
}

__global__ void atomics_kernel(Counters* c) {
  atomicAdd(&c->f, 0.5f);
  atomicAdd(&c->d, 0.25);
  atomicAdd(&c->i, 1);
  atomicAdd(&c->u, 2ull);
  const int id = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicMin(&c->lo, id);
  atomicMax(&c->hi, id);
  atomicCAS(&c->cas, 0, id + 1);
  atomicExch(&c->last, 1);
}

__global__ void dynamic_shared_kernel(double* out) {
  extern __shared__ double s[];
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

__global__ void unwritten_shared_kernel(double* out) {
  __shared__ double s[4];
  out[threadIdx.x] = s[threadIdx.x];
}

__global__ void misuse_kernel(int kind) {
  if (kind == 0) {  // threads 0..9 leave before a barrier the others wait at
    if (threadIdx.x < 10) return;
    __syncthreads();
  } else if (kind == 1) {  // odd and even threads wait at different barriers
    if (threadIdx.x % 2) {
      __syncthreads();
    } else {
      __syncthreads();
    }
  } else if (kind == 2) {  // half the warp leaves; the other half shuffles with the whole warp
    if (threadIdx.x >= 16) return;
    (void)__shfl_sync(0xffffffffu, 1, 0);
  } else if (kind == 3) {  // a static shared array over 48 KiB
    __shared__ double big[7000];
    big[threadIdx.x] = 0.0;
  }
}

}  // namespace

void launch_indices(unsigned* out, dim3 grid, dim3 block) { indices_kernel<<<grid, block>>>(out); }
void launch_shuffle(int* out, int kind, int arg, int width) { shuffle_kernel<<<1, 64>>>(out, kind, arg, width); }
void launch_vote(unsigned* out) { vote_kernel<<<1, 32>>>(out); }
void launch_atomics(Counters* c, unsigned blocks) { atomics_kernel<<<blocks, 128>>>(c); }
void launch_dynamic_shared(double* out, unsigned blocks, unsigned threads, size_t bytes) {
  dynamic_shared_kernel<<<blocks, threads, bytes>>>(out);
}
void launch_unwritten_shared(double* out) { unwritten_shared_kernel<<<1, 4>>>(out); }
// The diagnosis comes when the queued grid runs, at the synchronisation, as a GPU reports a fault.
void launch_misuse(int kind) {
  misuse_kernel<<<1, 64>>>(kind);
  cudaDeviceSynchronize();
}
void launch_config(dim3 grid, dim3 block, size_t bytes, cudaStream_t stream) {
  indices_kernel<<<grid, block, bytes, stream>>>(nullptr);
}

}  // namespace lits::emu_selftest
