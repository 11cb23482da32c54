// Device memory: 64-byte aligned CPU allocations (blocks of 1 MiB and more cached for reuse, see
// allocator.cpp for why) and a caching, size-binned CUDA allocator.
// Both count live and peak bytes, which tests (saved tensors released) and benchmarks read.
#pragma once

#include <cstdint>

#include "engine/device.h"

namespace lits {

struct AllocatorStats {
  int64_t live_bytes = 0;    // held by tensors now
  int64_t peak_bytes = 0;    // max of live_bytes since the last reset_peak
  int64_t cached_bytes = 0;  // freed blocks kept for reuse (CUDA; CPU blocks of 1 MiB and more)
  int64_t allocations = 0;   // calls that returned memory
};

// Throws lits::Error when memory cannot be had (naming the device, the request and the counters).
void* device_allocate(Device device, int64_t bytes);
// Never throws; `bytes` is the size passed to device_allocate.
void device_deallocate(Device device, void* ptr, int64_t bytes) noexcept;

AllocatorStats allocator_stats(Device device);
void reset_peak_bytes(Device device);
// Return cached blocks to the driver (CUDA) or the C library (CPU).
void empty_cache(Device device);

constexpr int64_t kCpuAlignment = 64;

// Page-locked host memory for the loader's batches, so host-to-device copies run at full bus speed and
// asynchronously. Needs a usable CUDA device (check cuda_available() first); blocks are cached by size
// like the CUDA pool's, because cudaHostAlloc costs milliseconds. Counted in pinned_allocator_stats, not
// in the CPU's.
void* pinned_allocate(int64_t bytes);
void pinned_deallocate(void* ptr, int64_t bytes) noexcept;
AllocatorStats pinned_allocator_stats();

namespace detail {
// Implemented in cuda_allocator.cpp (CUDA builds) or as errors (CPU-only builds).
void* cuda_allocate(int device, int64_t bytes);
void cuda_deallocate(int device, void* ptr, int64_t bytes) noexcept;
AllocatorStats cuda_allocator_stats(int device);
void cuda_reset_peak(int device);
void cuda_empty_cache(int device);
// Private pools, for CUDA graphs (engine/cuda_graph.h): between begin and end, the calling thread's
// allocations on `device` come from a new pool (its id returned), and blocks freed into it stay there,
// for no one else, until release; blocks still live then go back to the shared cache when freed.
int64_t cuda_begin_private_pool(int device);
void cuda_end_private_pool(int device);
void cuda_release_private_pool(int device, int64_t pool);
}  // namespace detail

}  // namespace lits
