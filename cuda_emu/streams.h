// Asynchrony on the emulated device (docs/cuda-emulation.md, "Streams run late"). Work put on a
// stream (launches, asynchronous copies and sets, cuBLAS and cuDNN calls, cudaFreeAsync) is queued,
// not run, and runs only when the program waits for it: cudaStreamSynchronize, an event it waits
// for, a synchronous copy, cudaFree, cudaDeviceSynchronize, or a full queue. A program that reads a
// result before it waits for it then reads what was there before, or the poison a pending copy into
// pinned memory leaves, instead of the answer by luck.
#pragma once

#include <cstdint>
#include <functional>

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

}  // namespace lits_emu
