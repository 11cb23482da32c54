// What the emulator tells its tests and its own parts: run settings, the kernels that ran, the
// last-error slot and the device-pointer registry (runtime.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cuda_emu/emu.h"

namespace lits_emu {

enum class Mode { kFibers, kThreads };
enum class Order { kForward, kReverse, kRandom };
// The most devices LITS_EMU_DEVICES may ask for.
constexpr int kMaxDevices = 8;
struct Settings {
  Mode mode = Mode::kFibers;
  Order order = Order::kForward;
  uint64_t seed = 1;
  int devices = 1;
};
// From LITS_EMU_MODE (fibers | threads), LITS_EMU_ORDER (forward | reverse | random) and
// LITS_EMU_SEED, and the device count from LITS_EMU_DEVICES (1 to kMaxDevices); a value outside these ends
// the program with a message naming the variable.
const Settings& settings();
std::string settings_text();  // "fibers, order random, seed 1"

// Every kernel (by file and name) that ran at least one block in this process.
struct KernelRun {
  std::string file, kernel;
  int64_t launches = 0, blocks = 0;
};
std::vector<KernelRun> kernel_runs();

// Device memory (runtime.cpp). cudaMalloc fails with cudaErrorMemoryAllocation once the live bytes
// of a device would pass `bytes` (the device's totalGlobalMem; 16 GiB unless set).
void set_memory_limit(size_t bytes);
size_t memory_limit();
// The `nth` cudaMalloc from now (1: the next one) fails with cudaErrorMemoryAllocation; 0 clears.
void fail_allocation(int64_t nth);
size_t device_live_bytes(int device);

void set_last_error(cudaError_t e);
bool stream_valid(cudaStream_t s);
// True when [p, p + bytes) lies inside one live cudaMalloc allocation.
bool is_device_range(const void* p, size_t bytes);

}  // namespace lits_emu
