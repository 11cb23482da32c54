// The CUDA surface the project's kernels use, served on the CPU (see docs/cuda-emulation.md):
// qualifiers, built-in variables, barriers, warp collectives with mask checks, atomics, the
// __*_rn intrinsics, the launch and __shared__ forms the rewriter (rewrite.cpp) produces, and the
// runtime calls the launchers make, with CUDA's error codes and launch-configuration limits.
// Kernels run as one fiber per CUDA thread (default) or one OS thread per CUDA thread
// (LITS_EMU_MODE=threads, for ThreadSanitizer); scheduler.cpp explains both.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __constant__ static_assert(false, "__constant__ is not emulated yet");
// The rewriter replaces every __shared__ of a .cu file; one left in a header is an error here.
#define __shared__ static_assert(false, "__shared__ outside a rewritten .cu file (move it into the .cu)");

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

// constinit: no dynamic initialisation, so every access is a plain thread-local load (a wrapper
// call for dim3's constructor made UBSan see a null pointer on fiber stacks).
extern thread_local constinit uint3 threadIdx;
extern thread_local constinit uint3 blockIdx;
extern thread_local constinit dim3 blockDim;
extern thread_local constinit dim3 gridDim;
constexpr int warpSize = 32;

// CUDA's numeric values, so a Status code reads the same as on a GPU.
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorNotReady = 600,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorStreamCaptureWrongThread = 908,
};
using cudaError = cudaError_t;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
using cudaStream_t = CUstream_st*;
using cudaEvent_t = CUevent_st*;
using cudaGraph_t = CUgraph_st*;
using cudaGraphExec_t = CUgraphExec_st*;
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2
};
enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2
};
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0, cudaEventDisableTiming = 2;
constexpr unsigned cudaHostAllocDefault = 0, cudaHostAllocPortable = 1;
// The fields of cudaDeviceProp the project reads.
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor;
  int multiProcessorCount;
  int warpSize;
  int maxThreadsPerBlock;
  size_t sharedMemPerBlock;
};

// The runtime API (runtime.cpp). C++ linkage: never confused with a real libcudart's symbols.
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
const char* cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t s);
cudaError_t cudaFreeAsync(void* p, cudaStream_t s);
cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned flags);
cudaError_t cudaMallocHost(void** p, size_t bytes);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s);
cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t bytes);
cudaError_t cudaMemset(void* p, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s);
cudaError_t cudaStreamCreate(cudaStream_t* s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags = 0);
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
// Stream capture and graphs (graphs.cpp): work put on a capturing stream is recorded, not run; an
// instantiated graph replays the recorded work, in order, on the stream it is launched on.
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status);
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
template <typename T>
cudaError_t cudaMalloc(T** p, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
template <typename T>
cudaError_t cudaMallocAsync(T** p, size_t bytes, cudaStream_t s) {
  return cudaMallocAsync(reinterpret_cast<void**>(p), bytes, s);
}

namespace lits_emu {

// Where a launch is written, for diagnostics and for the count of kernels run.
struct Site {
  const char* file;
  int line;
  const char* kernel;
};

struct Config {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  Config(dim3 g, dim3 b, size_t shared_bytes = 0, cudaStream_t s = nullptr)
      : grid(g), block(b), smem(shared_bytes), stream(s) {}
};

// Queues the grid on the configuration's stream (streams.h): body(ctx) runs once per CUDA thread
// when the stream's work runs (scheduler.cpp). A bad configuration sets the last error instead,
// at the launch, as CUDA does.
void submit_grid(const Site& site, const Config& cfg, void (*body)(void*), std::shared_ptr<void> ctx);

// CUDA copies kernel arguments at the launch: evaluated once here and kept with the queued grid;
// each CUDA thread then calls the kernel with its own copies.
template <typename K, typename... A>
void launch(const Site& site, K kernel, const Config& cfg, A&&... args) {
  // The rewriter's lambda naming the kernel captures by value ([=]): the grid runs later.
  struct Call {
    std::decay_t<K> kernel;
    std::tuple<std::decay_t<A>...> values;
  };
  auto call = std::make_shared<Call>(Call{kernel, {std::forward<A>(args)...}});
  submit_grid(
      site, cfg, [](void* c) { std::apply(static_cast<Call*>(c)->kernel, static_cast<Call*>(c)->values); }, call);
}

// The block's copy of a __shared__ variable (one per declaration site), poisoned with 0xFF bytes.
void* shared_at(const char* file, int line, size_t bytes, size_t align);
void* dynamic_shared_at(const char* file, int line);
template <typename A>
A& static_shared(const char* file, int line) {
  return *static_cast<A*>(shared_at(file, line, sizeof(A), alignof(A)));
}
template <typename T>
T* dynamic_shared(const char* file, int line) {
  return static_cast<T*>(dynamic_shared_at(file, line));
}

void syncthreads(const char* file, int line);
enum class WarpKind { kSync, kShfl, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll };
// One warp collective: every lane in `mask` must call the same kind with the same mask; returns
// the lane's result (the shuffled bits, or the ballot).
uint64_t warp_collective(const char* file, int line, WarpKind kind, unsigned mask, uint64_t bits, int arg, int width);
unsigned active_mask();
inline void syncwarp(const char* file, int line, unsigned mask = 0xffffffffu) {
  warp_collective(file, line, WarpKind::kSync, mask, 0, 0, warpSize);
}

template <typename T>
T shuffle(const char* file, int line, WarpKind kind, unsigned mask, T v, int arg, int width = warpSize) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffles move at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_collective(file, line, kind, mask, bits, arg, width);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

// CUDA's atomics order nothing but themselves: relaxed, so they hide no race from TSan.
constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
// atomicMin / atomicMax: stores v while it is `better` than what is there.
template <typename T, typename Better>
T atomic_replace_if(T* p, T v, Better better) {
  std::atomic_ref<T> a(*p);
  T old = a.load(kRelaxed);
  while (better(v, old) && !a.compare_exchange_weak(old, v, kRelaxed)) {
  }
  return old;
}

}  // namespace lits_emu

// Macros, so a barrier or a collective names its own source line in a diagnosis.
#define __syncthreads() ::lits_emu::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) ::lits_emu::syncwarp(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(mask, v, lane, ...) \
  ::lits_emu::shuffle(__FILE__, __LINE__, ::lits_emu::WarpKind::kShfl, mask, v, lane __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_up_sync(mask, v, d, ...) \
  ::lits_emu::shuffle(__FILE__, __LINE__, ::lits_emu::WarpKind::kShflUp, mask, v, d __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_down_sync(mask, v, d, ...) \
  ::lits_emu::shuffle(__FILE__, __LINE__, ::lits_emu::WarpKind::kShflDown, mask, v, d __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_xor_sync(mask, v, m, ...) \
  ::lits_emu::shuffle(__FILE__, __LINE__, ::lits_emu::WarpKind::kShflXor, mask, v, m __VA_OPT__(, ) __VA_ARGS__)
#define __ballot_sync(mask, p) \
  static_cast<unsigned>(       \
      ::lits_emu::warp_collective(__FILE__, __LINE__, ::lits_emu::WarpKind::kBallot, mask, (p) != 0, 0, 32))
#define __any_sync(mask, p) \
  static_cast<int>(::lits_emu::warp_collective(__FILE__, __LINE__, ::lits_emu::WarpKind::kAny, mask, (p) != 0, 0, 32))
#define __all_sync(mask, p) \
  static_cast<int>(::lits_emu::warp_collective(__FILE__, __LINE__, ::lits_emu::WarpKind::kAll, mask, (p) != 0, 0, 32))
inline unsigned __activemask() { return ::lits_emu::active_mask(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Atomics: std::atomic_ref, so ThreadSanitizer sees them as atomic and the plain `+=` a kernel
// should not use as the race it is.
template <typename T>
T atomicAdd(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v, ::lits_emu::kRelaxed);
}
template <typename T>
T atomicSub(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_sub(v, ::lits_emu::kRelaxed);
}
template <typename T>
T atomicExch(T* p, T v) {
  return std::atomic_ref<T>(*p).exchange(v, ::lits_emu::kRelaxed);
}
template <typename T>
T atomicCAS(T* p, T expected, T desired) {
  std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired, ::lits_emu::kRelaxed);
  return expected;
}
template <typename T>
T atomicMin(T* p, T v) {
  return ::lits_emu::atomic_replace_if(p, v, std::less<>());
}
template <typename T>
T atomicMax(T* p, T v) {
  return ::lits_emu::atomic_replace_if(p, v, std::greater<>());
}

// The device's min/max overloads (CUDA declares them for every arithmetic type).
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> min(A a, B b) {
  return b < a ? b : a;
}
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}

// Correctly rounded single operations (the emulated build compiles with -ffp-contract=off, so a
// plain operation is exactly one IEEE rounding, as these intrinsics promise).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
