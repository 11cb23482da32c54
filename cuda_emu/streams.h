// Asynchrony on the emulated device (docs/cuda-emulation.md, "Streams run late"). Work put on a
// stream (launches, asynchronous copies and sets, cuBLAS and cuDNN calls, cudaFreeAsync) is queued,
// not run, and runs only when the program waits for it: cudaStreamSynchronize, an event it waits
// for, a synchronous copy, cudaFree, cudaDeviceSynchronize, or a full queue. A program that reads a
// result before it waits for it then reads what was there before, or the poison a pending copy into
// pinned memory leaves, instead of the answer by luck.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda_emu/emu.h"

namespace lits_emu {

// The device a host thread works on (cudaSetDevice), and how many the emulator has
// (LITS_EMU_DEVICES, 1 to 8; 1 unless set).
int current_device();
int device_count();

// Queues `work` on `s` (nullptr: the legacy default stream of the current device), which the
// caller has checked is live. Returns the work's place in the device's global order.
uint64_t enqueue(cudaStream_t s, std::function<void()> work);
// Runs the work of `s` queued before position `until` (UINT64_MAX: all of it), in order.
void drain(cudaStream_t s, uint64_t until = UINT64_MAX);
// Runs every queued piece of work of `device` (cudaDeviceSynchronize).
void drain_device(int device);
// The device a stream belongs to (-1 when it is not live).
int stream_device(cudaStream_t s);

// One stream capture (graphs.cpp): the work recorded so far, in order.
struct Capture {
  std::mutex m;
  std::vector<std::function<void()>> nodes;
  bool invalid = false;  // a prohibited call was made during it: cudaStreamEndCapture fails
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;  // the thread that began it
};
// Puts `s` in capture (`c` non-null) or ends its capture; enqueue on a capturing stream records the
// work into the capture instead of queueing it.
void set_capture(cudaStream_t s, std::shared_ptr<Capture> c);
std::shared_ptr<Capture> capture_of(cudaStream_t s);
// Before a call that is potentially unsafe during capture (cudaMalloc, cudaFree, synchronous copies and
// sets, synchronisation, pageable copies): cudaSuccess, or, when the calling thread is prohibited from it
// (cudaThreadExchangeStreamCaptureMode's rules), cudaErrorStreamCaptureUnsupported with the captures
// concerned invalidated, as CUDA does.
cudaError_t check_unsafe_call();
// True when the calling thread has a capture going (its legacy-stream work then invalidates it).
bool thread_is_capturing();
// For work the emulator cannot record on the capturing stream `s`: invalidates the capture and returns
// cudaErrorStreamCaptureUnsupported.
cudaError_t unsupported_in_capture(cudaStream_t s);
void invalidate_thread_captures();

}  // namespace lits_emu
