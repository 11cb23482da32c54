// Caching CUDA allocator, one pool per device, and the cached pool of pinned host blocks. Requests are rounded to 512 B
// (small) or 2 MiB (large, >= 1 MiB) bins and freed blocks are kept per bin for reuse. All work runs on the device's
// single context stream, so a block freed by the host can be reused by the next launch without synchronising: stream
// order already puts it after its last use.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/allocator.h"
#include "engine/error.h"

#if LITS_HAVE_CUDA
#include <cuda_runtime.h>

#include "engine/cuda_check.h"
#endif

namespace lits::detail {

#if LITS_HAVE_CUDA
namespace {

constexpr int64_t kSmallLimit = 1 << 20;
constexpr int64_t kSmallBin = 512;
constexpr int64_t kLargeBin = 2 << 20;

int64_t bin_size(int64_t bytes) {
  const int64_t unit = bytes < kSmallLimit ? kSmallBin : kLargeBin;
  return (bytes + unit - 1) / unit * unit;
}

// Blocks kept for one CUDA graph (private pools, allocator.h): what its capture allocated. They are
// never handed to anyone else while the graph lives, since every replay writes them again.
struct PrivatePool {
  std::map<int64_t, std::vector<void*>> free_blocks;
  bool released = false;  // the graph is gone: its blocks go back to the shared cache when freed
};

struct Pool {
  std::mutex mutex;
  std::map<int64_t, std::vector<void*>> free_blocks;
  AllocatorStats stats;
  std::map<int64_t, PrivatePool> privates;
  std::map<void*, int64_t> owner;  // private-pool blocks and their pool
  int64_t next_private = 1;

  // The caller holds `mutex` in the three helpers below. A cached block of `size` bytes, or null.
  void* take_cached(int64_t size) {
    auto it = free_blocks.find(size);
    if (it == free_blocks.end() || it->second.empty()) return nullptr;
    void* ptr = it->second.back();
    it->second.pop_back();
    stats.cached_bytes -= size;
    return ptr;
  }
  void count_allocation(int64_t size) {
    stats.live_bytes += size;
    stats.peak_bytes = std::max(stats.peak_bytes, stats.live_bytes);
    stats.allocations += 1;
  }
  void keep(void* ptr, int64_t size) {
    free_blocks[size].push_back(ptr);
    stats.live_bytes -= size;
    stats.cached_bytes += size;
  }

  void release_cache() {  // device blocks only: the pinned pool is never released
    for (auto& [size, blocks] : free_blocks)
      for (void* p : blocks) {
        cudaFree(p);
        stats.cached_bytes -= size;
      }
    free_blocks.clear();
  }
};

Pool& pool(int device) {
  // Never destroyed, like the contexts (cuda_context.cpp): memory may be given back during exit.
  static auto* const pools_mutex = new std::mutex;
  static auto* const pools = new std::map<int, std::unique_ptr<Pool>>;
  std::lock_guard<std::mutex> lock(*pools_mutex);
  auto& p = (*pools)[device];
  if (!p) p = std::make_unique<Pool>();
  return *p;
}

// The private pool the calling thread allocates from on each device (0: the shared cache).
thread_local std::map<int, int64_t> t_route;

int64_t route(int device) {
  const auto it = t_route.find(device);
  return it == t_route.end() ? 0 : it->second;
}

// cudaMalloc, allowed while this thread captures: the allocation is outside the graph, which only
// records the addresses (cudaThreadExchangeStreamCaptureMode's relaxed mode, as its documentation shows).
cudaError_t malloc_relaxed(void** ptr, int64_t size) {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  cudaThreadExchangeStreamCaptureMode(&mode);
  const cudaError_t e = cudaMalloc(ptr, static_cast<size_t>(size));
  cudaThreadExchangeStreamCaptureMode(&mode);
  return e;
}

}  // namespace

int64_t cuda_begin_private_pool(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  const int64_t id = p.next_private++;
  p.privates[id];
  t_route[device] = id;
  return id;
}

void cuda_end_private_pool(int device) { t_route.erase(device); }

void cuda_release_private_pool(int device, int64_t id) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  auto it = p.privates.find(id);
  if (it == p.privates.end()) return;
  for (auto& [size, blocks] : it->second.free_blocks)
    for (void* b : blocks) {
      p.owner.erase(b);
      p.free_blocks[size].push_back(b);  // still counted as cached
    }
  it->second.free_blocks.clear();
  it->second.released = true;
}

void* cuda_allocate(int device, int64_t bytes) {
  LITS_CHECK(cuda_available(),
             "cannot allocate " << bytes << " bytes on cuda:" << device << ": " << cuda_unavailable_reason());
  LITS_CHECK(device >= 0 && device < cuda_device_count(),
             "cuda:" << device << " does not exist (" << cuda_device_count() << " device(s))");
  Pool& p = pool(device);
  const int64_t size = bin_size(bytes);
  const int64_t private_id = route(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  void* ptr = nullptr;
  if (private_id != 0) {
    auto& blocks = p.privates[private_id].free_blocks[size];
    if (!blocks.empty()) {
      ptr = blocks.back();
      blocks.pop_back();
      p.stats.cached_bytes -= size;
    }
  } else {
    ptr = p.take_cached(size);
  }
  if (ptr == nullptr) {
    LITS_CUDA_CHECK(cudaSetDevice(device));
    if (malloc_relaxed(&ptr, size) != cudaSuccess) {
      cudaGetLastError();
      // Give the cache back to the driver and try once more (not while capturing: cudaFree synchronises).
      if (private_id == 0) p.release_cache();
      const bool ok = malloc_relaxed(&ptr, size) == cudaSuccess;
      // Cleared, or the next launch's status check would report this error as its own (seen on the
      // emulated device: a fill after a caught out-of-memory failed with "out of memory").
      if (!ok) cudaGetLastError();
      LITS_CHECK(ok, "CUDA out of memory on cuda:" << device << " allocating " << bytes << " bytes (live "
                                                   << p.stats.live_bytes << " bytes, cache emptied)");
    }
  }
  if (private_id != 0) p.owner[ptr] = private_id;
  p.count_allocation(size);
  return ptr;
}

void cuda_deallocate(int device, void* ptr, int64_t bytes) noexcept {
  Pool& p = pool(device);
  const int64_t size = bin_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  const auto it = p.owner.find(ptr);
  if (it == p.owner.end()) {
    p.keep(ptr, size);
    return;
  }
  PrivatePool& owner = p.privates[it->second];
  if (owner.released) {  // its graph is gone: back to the shared cache
    p.owner.erase(it);
    p.keep(ptr, size);
    return;
  }
  owner.free_blocks[size].push_back(ptr);
  p.stats.live_bytes -= size;
  p.stats.cached_bytes += size;
}

AllocatorStats cuda_allocator_stats(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void cuda_reset_peak(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.peak_bytes = p.stats.live_bytes;
}

void cuda_empty_cache(int device) {
  Pool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.release_cache();
}

namespace {
Pool& pinned_pool() {
  static auto* const p = new Pool;  // never destroyed, like the device pools
  return *p;
}
}  // namespace

#else  // no CUDA backend in this build

void* cuda_allocate(int device, int64_t bytes) {
  LITS_THROW("cannot allocate " << bytes << " bytes on cuda:" << device << ": " << cuda_unavailable_reason());
}
int64_t cuda_begin_private_pool(int) { LITS_THROW("CUDA graphs need the CUDA backend, which this build has not"); }
void cuda_end_private_pool(int) {}
void cuda_release_private_pool(int, int64_t) {}
void cuda_deallocate(int, void*, int64_t) noexcept {}
AllocatorStats cuda_allocator_stats(int) { return {}; }
void cuda_reset_peak(int) {}
void cuda_empty_cache(int) {}

#endif

}  // namespace lits::detail

namespace lits {

#if LITS_HAVE_CUDA
void* pinned_allocate(int64_t bytes) {
  LITS_CHECK(cuda_available(),
             "cannot allocate " << bytes << " bytes of pinned host memory: " << cuda_unavailable_reason());
  if (bytes <= 0) return nullptr;
  detail::Pool& p = detail::pinned_pool();
  const int64_t size = detail::bin_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  void* ptr = p.take_cached(size);
  if (ptr == nullptr) {
    LITS_CHECK(cudaHostAlloc(&ptr, static_cast<size_t>(size), cudaHostAllocPortable) == cudaSuccess,
               "cannot allocate " << bytes << " bytes of pinned host memory (cudaHostAlloc: "
                                  << cudaGetErrorString(cudaGetLastError()) << "; pinned live " << p.stats.live_bytes
                                  << " bytes)");
  }
  p.count_allocation(size);
  return ptr;
}

void pinned_deallocate(void* ptr, int64_t bytes) noexcept {
  if (ptr == nullptr) return;
  detail::Pool& p = detail::pinned_pool();
  const int64_t size = detail::bin_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.keep(ptr, size);  // for the next batch; page-locked blocks are freed with the process
}

AllocatorStats pinned_allocator_stats() {
  detail::Pool& p = detail::pinned_pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}
#else
void* pinned_allocate(int64_t bytes) {
  LITS_THROW("cannot allocate " << bytes << " bytes of pinned host memory: " << cuda_unavailable_reason());
}
void pinned_deallocate(void*, int64_t) noexcept {}
AllocatorStats pinned_allocator_stats() { return {}; }
#endif

}  // namespace lits
