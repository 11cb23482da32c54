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

struct Pool {
  std::mutex mutex;
  std::map<int64_t, std::vector<void*>> free_blocks;
  AllocatorStats stats;

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

}  // namespace

void* cuda_allocate(int device, int64_t bytes) {
  LITS_CHECK(cuda_available(),
             "cannot allocate " << bytes << " bytes on cuda:" << device << ": " << cuda_unavailable_reason());
  LITS_CHECK(device >= 0 && device < cuda_device_count(),
             "cuda:" << device << " does not exist (" << cuda_device_count() << " device(s))");
  Pool& p = pool(device);
  const int64_t size = bin_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  void* ptr = p.take_cached(size);
  if (ptr == nullptr) {
    LITS_CUDA_CHECK(cudaSetDevice(device));
    if (cudaMalloc(&ptr, static_cast<size_t>(size)) != cudaSuccess) {
      cudaGetLastError();
      p.release_cache();  // give the cache back to the driver and try once more
      const bool ok = cudaMalloc(&ptr, static_cast<size_t>(size)) == cudaSuccess;
      // Cleared, or the next launch's status check would report this error as its own (seen on the
      // emulated device: a fill after a caught out-of-memory failed with "out of memory").
      if (!ok) cudaGetLastError();
      LITS_CHECK(ok, "CUDA out of memory on cuda:" << device << " allocating " << bytes << " bytes (live "
                                                   << p.stats.live_bytes << " bytes, cache emptied)");
    }
  }
  p.count_allocation(size);
  return ptr;
}

void cuda_deallocate(int device, void* ptr, int64_t bytes) noexcept {
  Pool& p = pool(device);
  const int64_t size = bin_size(bytes);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.keep(ptr, size);
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
