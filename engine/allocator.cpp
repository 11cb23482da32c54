// CPU allocator (aligned_alloc with counters, large blocks cached) and the device-generic entry
// points.
//
// Why large CPU blocks are cached: glibc serves a request of more than its mmap threshold (at most
// 32 MiB) with a fresh mmap and unmaps it on free, so every activation of a 256 x 256 batch came
// back as untouched pages, and the first write of each page faulted: a convolution writing 40 MiB
// spent about as long in the kernel's page faults as computing. Blocks of 1 MiB or more are rounded
// to 2 MiB bins and kept on free for the next request that fits them (see take_cached); a training
// or inference loop repeats its shapes, so after the first step it allocates nothing new.
// empty_cache(cpu) gives them back. Smaller blocks go straight to aligned_alloc (glibc reuses them).
#include "engine/allocator.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/error.h"

namespace lits {
namespace {

std::atomic<int64_t> g_cpu_live{0}, g_cpu_peak{0}, g_cpu_allocs{0};

constexpr int64_t kCachedLimit = 1 << 20;  // requests from this size on are cached
constexpr int64_t kCachedBin = 2 << 20;

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Freed large blocks by size, and the size of each large block in use (a request may get a larger
// block). Never destroyed: tensors may be freed during exit.
struct CpuCache {
  std::mutex mutex;
  std::map<int64_t, std::vector<void*>> free_blocks;
  std::unordered_map<void*, int64_t> in_use;
  int64_t cached_bytes = 0;
};
CpuCache& cpu_cache() {
  static auto* const cache = new CpuCache;
  return *cache;
}

// The smallest cached block of at least `bin` bytes and at most twice that, or null. Taking a larger
// block lets one level's freed activations serve the next level's smaller ones, instead of
// allocating (and faulting in) new memory beside them: without it the inference of a 512 x 512
// slice held about 1.5 times as much memory.
void* take_cached(CpuCache& c, int64_t bin, int64_t* size) {
  auto it = c.free_blocks.lower_bound(bin);
  while (it != c.free_blocks.end() && it->second.empty()) ++it;
  if (it == c.free_blocks.end() || it->first > 2 * bin) return nullptr;
  void* p = it->second.back();
  it->second.pop_back();
  c.cached_bytes -= it->first;
  *size = it->first;
  return p;
}

// The caller holds c.mutex.
void release_cached(CpuCache& c) {
  for (auto& entry : c.free_blocks)
    for (void* p : entry.second) std::free(p);
  c.free_blocks.clear();
  c.cached_bytes = 0;
}

void cpu_release_cache() {
  CpuCache& c = cpu_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  release_cached(c);
}

void* allocate_large(int64_t bytes) {
  int64_t size = round_up(bytes, kCachedBin);
  CpuCache& c = cpu_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  void* p = take_cached(c, size, &size);
  if (p == nullptr) p = std::aligned_alloc(kCpuAlignment, static_cast<size_t>(size));
  if (p == nullptr) {  // the cache may hold what the system lacks
    release_cached(c);
    p = std::aligned_alloc(kCpuAlignment, static_cast<size_t>(size));
  }
  if (p != nullptr) c.in_use[p] = size;
  return p;
}

void* cpu_allocate(int64_t bytes) {
  void* p = bytes >= kCachedLimit
                ? allocate_large(bytes)
                : std::aligned_alloc(kCpuAlignment, static_cast<size_t>(round_up(bytes, kCpuAlignment)));
  LITS_CHECK(p != nullptr,
             "out of host memory allocating " << bytes << " bytes on cpu (live " << g_cpu_live.load() << " bytes)");
  const int64_t live = g_cpu_live.fetch_add(bytes) + bytes;
  int64_t peak = g_cpu_peak.load();
  while (live > peak && !g_cpu_peak.compare_exchange_weak(peak, live)) {
  }
  g_cpu_allocs.fetch_add(1);
  return p;
}

void cpu_deallocate(void* p, int64_t bytes) noexcept {
  g_cpu_live.fetch_sub(bytes);
  if (bytes < kCachedLimit) return std::free(p);
  CpuCache& c = cpu_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.in_use.find(p);
  const int64_t size = it->second;
  c.in_use.erase(it);
  try {
    c.free_blocks[size].push_back(p);
    c.cached_bytes += size;
  } catch (...) {  // no memory for the bookkeeping: give the block back instead
    std::free(p);
  }
}

}  // namespace

void* device_allocate(Device device, int64_t bytes) {
  LITS_CHECK(bytes >= 0, "allocation of " << bytes << " bytes on " << device.str());
  if (bytes == 0) return nullptr;
  if (device.is_cpu()) return cpu_allocate(bytes);
  return detail::cuda_allocate(device.index, bytes);
}

void device_deallocate(Device device, void* ptr, int64_t bytes) noexcept {
  if (ptr == nullptr) return;
  if (device.is_cpu()) return cpu_deallocate(ptr, bytes);
  detail::cuda_deallocate(device.index, ptr, bytes);
}

AllocatorStats allocator_stats(Device device) {
  if (device.is_cuda()) return detail::cuda_allocator_stats(device.index);
  AllocatorStats s;
  s.live_bytes = g_cpu_live.load();
  s.peak_bytes = g_cpu_peak.load();
  s.allocations = g_cpu_allocs.load();
  CpuCache& c = cpu_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  s.cached_bytes = c.cached_bytes;
  return s;
}

void reset_peak_bytes(Device device) {
  if (device.is_cuda()) return detail::cuda_reset_peak(device.index);
  g_cpu_peak.store(g_cpu_live.load());
}

void empty_cache(Device device) {
  if (device.is_cuda()) return detail::cuda_empty_cache(device.index);
  cpu_release_cache();
}

}  // namespace lits
