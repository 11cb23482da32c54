// Threads mode's grid runner (threads.cpp), called by run_grid (scheduler.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "cuda_emu/block.h"
#include "cuda_emu/emu.h"

namespace lits_emu::detail {

// Runs the blocks in `order` (linear block indices) with one OS thread per CUDA thread.
void run_threads(const Site& site, const Config& cfg, void (*body)(void*), void* ctx, const RunOrder& order);

}  // namespace lits_emu::detail
