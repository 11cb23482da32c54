// Stream capture and graphs on the emulated device (emu.h, streams.h). A capture records every piece of
// work put on its stream (launches, asynchronous copies between device and pinned memory, sets, cuBLAS,
// cuDNN and NCCL calls) as the closure the stream would have run; an instantiated graph puts those
// closures on the launch stream, in order, each time it is launched. Kernel arguments, library
// descriptors and scalars were copied at the call, so a replay repeats the captured work exactly, as a
// CUDA graph does. Potentially unsafe calls (cudaMalloc, cudaFree, synchronisation, synchronous or
// pageable copies, the legacy stream) follow cudaThreadExchangeStreamCaptureMode's documented rules:
// a prohibited one fails with cudaErrorStreamCaptureUnsupported and invalidates the capture, so
// cudaStreamEndCapture fails. Not emulated: event record and wait nodes (fork and join of several
// captured streams) and memory nodes (cudaMallocAsync in a capture); they fail as unsupported.
#include <algorithm>
#include <mutex>
#include <vector>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"
#include "cuda_emu/streams.h"

struct CUgraph_st {
  std::vector<std::function<void()>> nodes;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> nodes;
};

namespace lits_emu {
namespace {

thread_local cudaStreamCaptureMode t_mode = cudaStreamCaptureModeGlobal;

std::mutex g_captures_mutex;
std::vector<std::shared_ptr<Capture>> g_captures;  // the captures going on, in every thread

cudaError_t fail(cudaError_t e) {
  set_last_error(e);
  return e;
}

}  // namespace

bool thread_is_capturing() {
  std::lock_guard lock(g_captures_mutex);
  for (const auto& c : g_captures)
    if (c->thread == std::this_thread::get_id()) return true;
  return false;
}

void invalidate_thread_captures() {
  std::lock_guard lock(g_captures_mutex);
  for (const auto& c : g_captures)
    if (c->thread == std::this_thread::get_id()) {
      std::lock_guard cl(c->m);
      c->invalid = true;
    }
}

cudaError_t unsupported_in_capture(cudaStream_t s) {
  if (const std::shared_ptr<Capture> c = capture_of(s)) {
    std::lock_guard cl(c->m);
    c->invalid = true;
  }
  return cudaErrorStreamCaptureUnsupported;
}

cudaError_t check_unsafe_call() {
  if (t_mode == cudaStreamCaptureModeRelaxed) return cudaSuccess;
  std::lock_guard lock(g_captures_mutex);
  bool prohibited = false;
  for (const auto& c : g_captures) {
    const bool own = c->thread == std::this_thread::get_id();
    // Own captures not begun relaxed; in global mode also other threads' global captures.
    if ((own && c->mode != cudaStreamCaptureModeRelaxed) ||
        (!own && t_mode == cudaStreamCaptureModeGlobal && c->mode == cudaStreamCaptureModeGlobal)) {
      std::lock_guard cl(c->m);
      c->invalid = true;
      prohibited = true;
    }
  }
  return prohibited ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

}  // namespace lits_emu

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  // The legacy stream cannot capture; a stream captures once at a time.
  if (s == nullptr) return lits_emu::fail(cudaErrorStreamCaptureUnsupported);
  if (!lits_emu::stream_valid(s)) return lits_emu::fail(cudaErrorInvalidResourceHandle);
  if (mode < cudaStreamCaptureModeGlobal || mode > cudaStreamCaptureModeRelaxed)
    return lits_emu::fail(cudaErrorInvalidValue);
  if (lits_emu::capture_of(s)) return lits_emu::fail(cudaErrorIllegalState);
  auto c = std::make_shared<lits_emu::Capture>();
  c->mode = mode;
  c->thread = std::this_thread::get_id();
  {
    std::lock_guard lock(lits_emu::g_captures_mutex);
    lits_emu::g_captures.push_back(c);
  }
  lits_emu::set_capture(s, c);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  if (!graph) return lits_emu::fail(cudaErrorInvalidValue);
  *graph = nullptr;
  if (s == nullptr || !lits_emu::stream_valid(s)) return lits_emu::fail(cudaErrorInvalidResourceHandle);
  const std::shared_ptr<lits_emu::Capture> c = lits_emu::capture_of(s);
  if (!c) return lits_emu::fail(cudaErrorIllegalState);
  if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id())
    return lits_emu::fail(cudaErrorStreamCaptureWrongThread);
  lits_emu::set_capture(s, nullptr);
  {
    std::lock_guard lock(lits_emu::g_captures_mutex);
    auto& all = lits_emu::g_captures;
    all.erase(std::remove(all.begin(), all.end(), c), all.end());
  }
  std::lock_guard cl(c->m);
  if (c->invalid) return lits_emu::fail(cudaErrorStreamCaptureInvalidated);
  *graph = lits_emu::make_handle(CUgraph_st{std::move(c->nodes)});
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status) {
  if (!status) return lits_emu::fail(cudaErrorInvalidValue);
  if (!lits_emu::stream_valid(s)) return lits_emu::fail(cudaErrorInvalidResourceHandle);
  const std::shared_ptr<lits_emu::Capture> c = s == nullptr ? nullptr : lits_emu::capture_of(s);
  if (!c) {
    *status = cudaStreamCaptureStatusNone;
  } else {
    std::lock_guard cl(c->m);
    *status = c->invalid ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  }
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (!mode || *mode < cudaStreamCaptureModeGlobal || *mode > cudaStreamCaptureModeRelaxed)
    return lits_emu::fail(cudaErrorInvalidValue);
  std::swap(*mode, lits_emu::t_mode);
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  if (!exec || flags != 0) return lits_emu::fail(cudaErrorInvalidValue);
  if (!lits_emu::live_handle(graph)) return lits_emu::fail(cudaErrorInvalidResourceHandle);
  *exec = lits_emu::make_handle(CUgraphExec_st{graph->nodes});
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  if (!lits_emu::live_handle(exec) || !lits_emu::stream_valid(s)) return lits_emu::fail(cudaErrorInvalidResourceHandle);
  for (const auto& node : exec->nodes) lits_emu::enqueue(s, node);
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  return lits_emu::drop_handle(exec) ? cudaSuccess : lits_emu::fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  return lits_emu::drop_handle(graph) ? cudaSuccess : lits_emu::fail(cudaErrorInvalidResourceHandle);
}
