// CPU allocator (aligned_alloc with counters) and the device-generic entry points.
#include "engine/allocator.h"

#include <atomic>
#include <cstdlib>

#include "engine/error.h"

namespace lits {
namespace {

std::atomic<int64_t> g_cpu_live{0}, g_cpu_peak{0}, g_cpu_allocs{0};

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

void* cpu_allocate(int64_t bytes) {
  void* p = std::aligned_alloc(kCpuAlignment, static_cast<size_t>(round_up(bytes, kCpuAlignment)));
  LITS_CHECK(p != nullptr,
             "out of host memory allocating " << bytes << " bytes on cpu (live " << g_cpu_live.load() << " bytes)");
  const int64_t live = g_cpu_live.fetch_add(bytes) + bytes;
  int64_t peak = g_cpu_peak.load();
  while (live > peak && !g_cpu_peak.compare_exchange_weak(peak, live)) {
  }
  g_cpu_allocs.fetch_add(1);
  return p;
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
  if (device.is_cpu()) {
    std::free(ptr);
    g_cpu_live.fetch_sub(bytes);
    return;
  }
  detail::cuda_deallocate(device.index, ptr, bytes);
}

AllocatorStats allocator_stats(Device device) {
  if (device.is_cuda()) return detail::cuda_allocator_stats(device.index);
  AllocatorStats s;
  s.live_bytes = g_cpu_live.load();
  s.peak_bytes = g_cpu_peak.load();
  s.allocations = g_cpu_allocs.load();
  return s;
}

void reset_peak_bytes(Device device) {
  if (device.is_cuda()) return detail::cuda_reset_peak(device.index);
  g_cpu_peak.store(g_cpu_live.load());
}

void empty_cache(Device device) {
  if (device.is_cuda()) detail::cuda_empty_cache(device.index);
}

}  // namespace lits
