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
struct Settings {
  Mode mode = Mode::kFibers;
  Order order = Order::kForward;
  uint64_t seed = 1;
};
// From LITS_EMU_MODE (fibers | threads), LITS_EMU_ORDER (forward | reverse | random) and
// LITS_EMU_SEED; a value outside these ends the program with a message naming the variable.
const Settings& settings();
std::string settings_text();  // "fibers, order random, seed 1"

// Every kernel (by file and name) that ran at least one block in this process.
struct KernelRun {
  std::string file, kernel;
  int64_t launches = 0, blocks = 0;
};
std::vector<KernelRun> kernel_runs();

void set_last_error(cudaError_t e);
bool stream_valid(cudaStream_t s);
// True when [p, p + bytes) lies inside one live cudaMalloc allocation.
bool is_device_range(const void* p, size_t bytes);

}  // namespace lits_emu
