// The emulated device's runtime calls: settings from the environment, the last-error slot, device
// memory (exact-size host allocations, filled with 0xFF bytes as fresh device memory holds garbage,
// in a registry so a copy or free of anything else fails as on a GPU), streams and events (work
// runs at the launch, so a synchronisation only checks its handle; handles.h keeps them).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"

struct CUstream_st {
  unsigned flags;
};
struct CUevent_st {
  unsigned flags;
};

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
  return s;
}

thread_local cudaError_t t_last_error = cudaSuccess;

std::mutex g_mutex;
std::map<const char*, size_t> g_device;  // start -> bytes of every live cudaMalloc allocation
std::set<const void*> g_host;

bool device_range_locked(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  auto it = g_device.upper_bound(c);
  if (it == g_device.begin()) return false;
  --it;
  return c >= it->first && bytes <= it->second && static_cast<size_t>(c - it->first) <= it->second - bytes;
}

cudaError_t fail(cudaError_t e) {
  t_last_error = e;
  return e;
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

bool stream_valid(cudaStream_t s) { return s == nullptr || live_handle(s); }

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard lock(g_mutex);
  return device_range_locked(p, bytes);
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
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
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
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  void* q = std::malloc(bytes);  // exactly `bytes`: ASan reports the first byte past the end
  if (!q) return fail(cudaErrorMemoryAllocation);
  std::memset(q, 0xFF, bytes);
  std::lock_guard lock(lits_emu::g_mutex);
  lits_emu::g_device[static_cast<const char*>(q)] = bytes;
  *p = q;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard lock(lits_emu::g_mutex);
  if (lits_emu::g_device.erase(static_cast<const char*>(p)) == 0) return fail(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t s) {
  return lits_emu::stream_valid(s) ? cudaMalloc(p, bytes) : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaFreeAsync(void* p, cudaStream_t s) {
  return lits_emu::stream_valid(s) ? cudaFree(p) : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned) {
  if (!p) return fail(cudaErrorInvalidValue);
  *p = std::malloc(bytes ? bytes : 1);
  if (!*p) return fail(cudaErrorMemoryAllocation);
  std::lock_guard lock(lits_emu::g_mutex);
  lits_emu::g_host.insert(*p);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) { return cudaHostAlloc(p, bytes, cudaHostAllocDefault); }
cudaError_t cudaFreeHost(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard lock(lits_emu::g_mutex);
  if (lits_emu::g_host.erase(p) == 0) return fail(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  bool ok = false;
  {
    std::lock_guard lock(lits_emu::g_mutex);
    const bool d_dev = lits_emu::device_range_locked(dst, bytes), s_dev = lits_emu::device_range_locked(src, bytes);
    switch (kind) {
      case cudaMemcpyHostToHost: ok = !d_dev && !s_dev; break;
      case cudaMemcpyHostToDevice: ok = d_dev && !s_dev; break;
      case cudaMemcpyDeviceToHost: ok = !d_dev && s_dev; break;
      case cudaMemcpyDeviceToDevice: ok = d_dev && s_dev; break;
      case cudaMemcpyDefault: ok = true; break;
      default: return fail(cudaErrorInvalidMemcpyDirection);
    }
  }
  // A pointer range that is not what `kind` says (or runs past its allocation) is refused.
  if (!ok) return fail(cudaErrorInvalidValue);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
  return lits_emu::stream_valid(s) ? cudaMemcpy(dst, src, bytes, kind) : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!lits_emu::is_device_range(p, bytes)) return fail(cudaErrorInvalidValue);
  std::memset(p, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  return lits_emu::stream_valid(s) ? cudaMemset(p, value, bytes) : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  if (!s) return fail(cudaErrorInvalidValue);
  *s = lits_emu::make_handle(CUstream_st{flags});
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  return lits_emu::drop_handle(s) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  return lits_emu::stream_valid(s) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  if (!e) return fail(cudaErrorInvalidValue);
  *e = lits_emu::make_handle(CUevent_st{flags});
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  return lits_emu::drop_handle(e) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
static bool event_valid(cudaEvent_t e) { return lits_emu::live_handle(e); }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!event_valid(e) || !lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  return event_valid(e) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  if (!event_valid(e) || !lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
