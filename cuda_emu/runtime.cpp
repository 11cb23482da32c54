// The emulated device's runtime calls: settings from the environment, the last-error slot, device
// memory (exact-size host allocations, filled with 0xFF bytes as fresh device memory holds garbage,
// in a registry so a copy or free of anything else fails as on a GPU), pinned host memory, and the
// copies and sets, which run late as the stream's other work does (streams.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_emu/control.h"
#include "cuda_emu/streams.h"

namespace lits_emu {
namespace {
template <typename E>
E parse_env(const char* name, const char* fallback, std::initializer_list<std::pair<const char*, E>> values) {
  const char* v = std::getenv(name);
  const std::string text = v && *v ? v : fallback;
  std::string names;
  for (const auto& [key, value] : values) {
    if (text == key) return value;
    names += names.empty() ? key : std::string(", ") + key;
  }
  std::fprintf(stderr, "cuda-emu: %s=%s: expected one of %s\n", name, text.c_str(), names.c_str());
  std::exit(2);
}

Settings read_settings() {
  Settings s;
  s.mode = parse_env<Mode>("LITS_EMU_MODE", "fibers", {{"fibers", Mode::kFibers}, {"threads", Mode::kThreads}});
  s.order = parse_env<Order>("LITS_EMU_ORDER", "forward",
                             {{"forward", Order::kForward}, {"reverse", Order::kReverse}, {"random", Order::kRandom}});
  if (const char* seed = std::getenv("LITS_EMU_SEED"); seed && *seed) {
    char* end = nullptr;
    s.seed = std::strtoull(seed, &end, 10);
    if (*end != '\0') {
      std::fprintf(stderr, "cuda-emu: LITS_EMU_SEED=%s: expected a non-negative integer\n", seed);
      std::exit(2);
    }
  }
  if (const char* devices = std::getenv("LITS_EMU_DEVICES"); devices && *devices) {
    char* end = nullptr;
    const long n = std::strtol(devices, &end, 10);
    if (*end != '\0' || n < 1 || n > kMaxDevices) {
      std::fprintf(stderr, "cuda-emu: LITS_EMU_DEVICES=%s: expected a device count from 1 to %d\n", devices,
                   kMaxDevices);
      std::exit(2);
    }
    s.devices = static_cast<int>(n);
  }
  return s;
}

thread_local cudaError_t t_last_error = cudaSuccess;

struct Allocation {
  size_t bytes;
  int device;
};
std::mutex g_mutex;
std::map<const char*, Allocation> g_device;  // start -> every live cudaMalloc allocation
std::map<const char*, size_t> g_pinned;      // start -> bytes of every live cudaHostAlloc block
std::vector<size_t> g_live(kMaxDevices, 0);  // live device bytes per device
size_t g_limit = size_t(16) << 30;
int64_t g_fail_countdown = 0;

// The allocation holding [p, p + bytes), or null.
const std::pair<const char* const, Allocation>* device_range_locked(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_device.upper_bound(c);
  if (it == g_device.begin()) return nullptr;
  --it;
  const bool inside =
      c >= it->first && bytes <= it->second.bytes && static_cast<size_t>(c - it->first) <= it->second.bytes - bytes;
  return inside ? &*it : nullptr;
}

bool pinned_range_locked(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_pinned.upper_bound(c);
  if (it == g_pinned.begin()) return false;
  --it;
  return bytes <= it->second && static_cast<size_t>(c - it->first) <= it->second - bytes;
}

cudaError_t fail(cudaError_t e) {
  t_last_error = e;
  return e;
}

// A piece of queued work found its memory freed before it ran: on a GPU an illegal address (or a
// silent read of whatever was reallocated there).
[[noreturn]] void freed_before_run(const char* what, const void* p) {
  std::fprintf(stderr,
               "cuda-emu error: %s queued on a stream touches device memory at %p that was freed before it ran "
               "(a cudaFreeAsync ahead of it, or a free on another stream without a wait)\n",
               what, p);
  std::abort();
}

// Frees a live allocation; the caller holds g_mutex. Poisoned first, so a kernel that still
// reads it (a missing wait) gets NaN instead of its old values.
void release_locked(std::map<const char*, Allocation>::iterator it) {
  std::memset(const_cast<char*>(it->first), 0xFF, it->second.bytes);
  g_live[static_cast<size_t>(it->second.device)] -= it->second.bytes;
  std::free(const_cast<char*>(it->first));
  g_device.erase(it);
}

enum class Side { kHost, kPinned, kDevice };
Side side_locked(const void* p, size_t bytes) {
  if (device_range_locked(p, bytes)) return Side::kDevice;
  return pinned_range_locked(p, bytes) ? Side::kPinned : Side::kHost;
}

// Every copy, synchronous or not. As the CUDA runtime documents: a copy from pageable host memory
// takes the source at the call; a copy into pageable host memory returns once it is done; copies
// from and into pinned memory run when the stream reaches them. A pinned destination holds 0xFF
// bytes until then, so a host that reads it early sees NaN; a pinned source the host writes while
// the copy waits is a race, reported when the copy runs.
cudaError_t copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s, bool wait) {
  if (!stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return fail(cudaErrorInvalidValue);
  Side d, from;
  {
    std::lock_guard lock(g_mutex);
    d = side_locked(dst, bytes);
    from = side_locked(src, bytes);
  }
  const bool d_dev = d == Side::kDevice, s_dev = from == Side::kDevice;
  bool ok = false;
  switch (kind) {
    case cudaMemcpyHostToHost: ok = !d_dev && !s_dev; break;
    case cudaMemcpyHostToDevice: ok = d_dev && !s_dev; break;
    case cudaMemcpyDeviceToHost: ok = !d_dev && s_dev; break;
    case cudaMemcpyDeviceToDevice: ok = d_dev && s_dev; break;
    case cudaMemcpyDefault: ok = true; break;
    default: return fail(cudaErrorInvalidMemcpyDirection);
  }
  // A pointer range that is not what `kind` says (or runs past its allocation) is refused.
  if (!ok) return fail(cudaErrorInvalidValue);
  // During capture only asynchronous copies between device and pinned memory can be recorded; a
  // pageable side or a synchronous copy is a potentially unsafe call.
  const bool captured = capture_of(s) != nullptr;
  if (wait || d == Side::kHost || from == Side::kHost)
    if (const cudaError_t e = check_unsafe_call()) return fail(e);
  uint64_t position = 0;
  if (from == Side::kHost) {
    auto staged =
        std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
    position = enqueue(s, [dst, bytes, d_dev, staged] {
      if (d_dev && !is_device_range(dst, bytes)) freed_before_run("cudaMemcpyAsync", dst);
      std::memcpy(dst, staged->data(), bytes);
    });
  } else {
    std::shared_ptr<std::vector<char>> seen;
    // A recorded copy reads its pinned source when the graph runs: the host is meant to write it between launches.
    if (from == Side::kPinned && !captured)
      seen = std::make_shared<std::vector<char>>(static_cast<const char*>(src), static_cast<const char*>(src) + bytes);
    if (d == Side::kPinned) std::memset(dst, 0xFF, bytes);
    position = enqueue(s, [dst, src, bytes, d_dev, s_dev, seen] {
      if (d_dev && !is_device_range(dst, bytes)) freed_before_run("cudaMemcpyAsync", dst);
      if (s_dev && !is_device_range(src, bytes)) freed_before_run("cudaMemcpyAsync", src);
      if (seen && std::memcmp(seen->data(), src, bytes) != 0) {
        std::fprintf(stderr,
                     "cuda-emu error: the host wrote pinned memory at %p while a cudaMemcpyAsync of %zu bytes from it "
                     "was still queued (synchronise the stream before reusing the buffer)\n",
                     src, bytes);
        std::abort();
      }
      std::memmove(dst, src, bytes);
    });
  }
  if (wait || d == Side::kHost) drain(s, position + 1);
  return cudaSuccess;
}

cudaError_t set(void* p, int value, size_t bytes, cudaStream_t s, bool wait) {
  if (!stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  if (wait)
    if (const cudaError_t e = check_unsafe_call()) return fail(e);
  if (bytes == 0) return cudaSuccess;
  if (!is_device_range(p, bytes)) return fail(cudaErrorInvalidValue);
  enqueue(s, [p, value, bytes] {
    if (!is_device_range(p, bytes)) freed_before_run("cudaMemsetAsync", p);
    std::memset(p, value, bytes);
  });
  return cudaSuccess;
}

}  // namespace

const Settings& settings() {
  static const Settings s = read_settings();
  return s;
}

std::string settings_text() {
  const Settings& s = settings();
  std::string t = s.mode == Mode::kFibers ? "fibers" : "threads";
  t += s.order == Order::kForward   ? ", order forward"
       : s.order == Order::kReverse ? ", order reverse"
                                    : ", order random";
  if (s.order == Order::kRandom) t += ", seed " + std::to_string(s.seed);
  return t;
}

void set_last_error(cudaError_t e) { t_last_error = e; }

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard lock(g_mutex);
  return device_range_locked(p, bytes) != nullptr;
}

void set_memory_limit(size_t bytes) {
  std::lock_guard lock(g_mutex);
  g_limit = bytes;
}
size_t memory_limit() {
  std::lock_guard lock(g_mutex);
  return g_limit;
}
void fail_allocation(int64_t nth) {
  std::lock_guard lock(g_mutex);
  g_fail_countdown = nth;
}
size_t device_live_bytes(int device) {
  std::lock_guard lock(g_mutex);
  return device >= 0 && device < kMaxDevices ? g_live[static_cast<size_t>(device)] : 0;
}

}  // namespace lits_emu

using lits_emu::fail;

cudaError_t cudaGetLastError() {
  const cudaError_t e = lits_emu::t_last_error;
  lits_emu::t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return lits_emu::t_last_error; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureImplicit:
      return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue);
  if (device < 0 || device >= lits_emu::device_count()) return fail(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "emulated CUDA device %d (cuda-emu, runs on the CPU)", device);
  prop->totalGlobalMem = lits_emu::memory_limit();
  prop->major = 9;  // the launch limits the emulator checks are sm_90's
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->sharedMemPerBlock = 48 << 10;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return fail(cudaErrorInvalidValue);
  *version = 0;  // 0: not a real CUDA runtime
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  const int device = lits_emu::current_device();
  std::lock_guard lock(lits_emu::g_mutex);
  const bool injected = lits_emu::g_fail_countdown > 0 && --lits_emu::g_fail_countdown == 0;
  if (injected || lits_emu::g_live[static_cast<size_t>(device)] + bytes > lits_emu::g_limit)
    return fail(cudaErrorMemoryAllocation);
  void* q = std::malloc(bytes);  // exactly `bytes`: ASan reports the first byte past the end
  if (!q) return fail(cudaErrorMemoryAllocation);
  std::memset(q, 0xFF, bytes);
  lits_emu::g_device[static_cast<const char*>(q)] = {bytes, device};
  lits_emu::g_live[static_cast<size_t>(device)] += bytes;
  *p = q;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  int device = -1;
  {
    std::lock_guard lock(lits_emu::g_mutex);
    const auto it = lits_emu::g_device.find(static_cast<const char*>(p));
    if (it == lits_emu::g_device.end()) return fail(cudaErrorInvalidValue);
    device = it->second.device;
  }
  lits_emu::drain_device(device);  // cudaFree waits for the device, as documented
  std::lock_guard lock(lits_emu::g_mutex);
  const auto it = lits_emu::g_device.find(static_cast<const char*>(p));
  if (it == lits_emu::g_device.end()) return fail(cudaErrorInvalidValue);
  lits_emu::release_locked(it);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t s) {
  if (lits_emu::stream_valid(s) && lits_emu::capture_of(s))
    return fail(lits_emu::unsupported_in_capture(s));  // memory nodes are not emulated
  return lits_emu::stream_valid(s) ? cudaMalloc(p, bytes) : fail(cudaErrorInvalidResourceHandle);
}
// The block is freed when the stream reaches the call: work queued after it that still uses it
// finds it gone.
cudaError_t cudaFreeAsync(void* p, cudaStream_t s) {
  if (!lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  if (!p) return cudaSuccess;
  if (!lits_emu::is_device_range(p, 1)) return fail(cudaErrorInvalidValue);
  if (lits_emu::capture_of(s)) return fail(lits_emu::unsupported_in_capture(s));  // as cudaMallocAsync
  lits_emu::enqueue(s, [p] {
    std::lock_guard lock(lits_emu::g_mutex);
    const auto it = lits_emu::g_device.find(static_cast<const char*>(p));
    if (it == lits_emu::g_device.end()) lits_emu::freed_before_run("cudaFreeAsync", p);
    lits_emu::release_locked(it);
  });
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned) {
  if (!p) return fail(cudaErrorInvalidValue);
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  *p = std::malloc(bytes ? bytes : 1);
  if (!*p) return fail(cudaErrorMemoryAllocation);
  std::lock_guard lock(lits_emu::g_mutex);
  lits_emu::g_pinned[static_cast<const char*>(*p)] = bytes ? bytes : 1;
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) { return cudaHostAlloc(p, bytes, cudaHostAllocDefault); }
cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  for (int d = 0; d < lits_emu::device_count(); ++d) lits_emu::drain_device(d);  // it waits for the devices
  std::lock_guard lock(lits_emu::g_mutex);
  if (lits_emu::g_pinned.erase(static_cast<const char*>(p)) == 0) return fail(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return lits_emu::copy(dst, src, bytes, kind, nullptr, true);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
  return lits_emu::copy(dst, src, bytes, kind, s, false);
}
// Ordered after all earlier work of both devices, as documented.
cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t bytes) {
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  const int n = lits_emu::device_count();
  if (dst_device < 0 || dst_device >= n || src_device < 0 || src_device >= n) return fail(cudaErrorInvalidDevice);
  if (bytes == 0) return cudaSuccess;
  {
    std::lock_guard lock(lits_emu::g_mutex);
    const auto* d = lits_emu::device_range_locked(dst, bytes);
    const auto* s = lits_emu::device_range_locked(src, bytes);
    if (!d || !s || d->second.device != dst_device || s->second.device != src_device)
      return fail(cudaErrorInvalidValue);
  }
  lits_emu::drain_device(src_device);
  lits_emu::drain_device(dst_device);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* p, int value, size_t bytes) { return lits_emu::set(p, value, bytes, nullptr, true); }
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  return lits_emu::set(p, value, bytes, s, false);
}
