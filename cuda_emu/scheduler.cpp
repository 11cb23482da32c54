// How the emulated device runs a grid. Blocks run in the order LITS_EMU_ORDER names (forward,
// reverse or seeded random), one after another in fibers mode (the default): every CUDA thread of
// a block is a coroutine on its own stack, and the threads switch only at __syncthreads and warp
// collectives, in the same order. A missing barrier then shows as a result that changes with the
// order, while a run stays reproducible. Threads mode is threads.cpp; both share block.cpp.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cuda_emu/block.h"
#include "cuda_emu/control.h"
#include "cuda_emu/streams.h"
#include "cuda_emu/threads.h"
#include "cuda_emu/tsan.h"

namespace lits_emu {
namespace {

using namespace detail;

void fiber_body() {
  Block& b = *t_block;
  b.body(b.ctx);
  TsanQuiet quiet;
  std::lock_guard lock(b.m);
  lane_exit(b, *t_lane);
}

// Rounds over the lanes in the run order (a new random order each round) until all have left.
void run_block_fibers(Block& b, RunOrder& lanes) {
  for (Lane& l : b.lanes) start_fiber(l.fiber, static_cast<size_t>(l.linear), fiber_body);
  while (b.done < b.size) {
    if (b.running == 0) resolve_stall(b);
    lanes.reshuffle();
    for (uint64_t k = 0; k < lanes.size(); ++k) {
      Lane& l = b.lanes[lanes[k]];
      if (l.wait != Wait::kRunning) continue;
      t_lane = &l;
      threadIdx = l.idx;
      switch_to_fiber(l.fiber);
    }
  }
}

cudaError_t check_config(const Config& c) {
  const dim3 b = c.block, g = c.grid;
  const uint64_t threads = uint64_t(b.x) * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 || threads > 1024)
    return cudaErrorInvalidConfiguration;
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    return cudaErrorInvalidConfiguration;
  if (c.smem > kStaticSharedLimit) return cudaErrorInvalidConfiguration;
  if (!stream_valid(c.stream)) return cudaErrorInvalidResourceHandle;
  return cudaSuccess;
}

std::mutex g_runs_mutex;
std::map<std::pair<std::string, std::string>, KernelRun> g_runs;
std::atomic<uint64_t> g_launches{0};

}  // namespace

std::vector<KernelRun> kernel_runs() {
  std::lock_guard lock(g_runs_mutex);
  std::vector<KernelRun> out;
  for (const auto& [key, run] : g_runs) out.push_back(run);
  return out;
}

namespace {

// One grid, run now (from the stream that queued it).
void run_grid(const Site& site, const Config& cfg, void (*body)(void*), void* ctx) {
  const uint64_t count = uint64_t(cfg.grid.x) * cfg.grid.y * cfg.grid.z;
  if (count > (uint64_t(1) << 28)) {
    std::fprintf(stderr, "%s:%d: cuda-emu error: %s: a grid of %llu blocks is more than the emulator runs\n", site.file,
                 site.line, site.kernel, static_cast<unsigned long long>(count));
    std::abort();
  }
  {
    std::lock_guard lock(g_runs_mutex);
    KernelRun& r = g_runs[{site.file, site.kernel}];
    r.file = site.file;
    r.kernel = site.kernel;
    ++r.launches;
    r.blocks += static_cast<int64_t>(count);
  }
  std::mt19937_64 rng(settings().seed * 0x9E3779B97F4A7C15ull + g_launches++);
  const RunOrder order(count, rng);
  if (settings().mode == Mode::kThreads) {
    run_threads(site, cfg, body, ctx, order);
    return;
  }
  Block b;
  b.site = &site, b.cfg = &cfg, b.body = body, b.ctx = ctx;
  init_lanes(b);
  RunOrder lanes(static_cast<uint64_t>(b.size), rng);
  Block* const outer = t_block;
  t_block = &b;
  blockDim = cfg.block;
  gridDim = cfg.grid;
  for (uint64_t k = 0; k < order.size(); ++k) {
    start_block(b, block_at(order[k], cfg.grid));
    blockIdx = b.idx;
    run_block_fibers(b, lanes);
  }
  t_block = outer;
  t_lane = nullptr;
}

}  // namespace

void submit_grid(const Site& site, const Config& cfg, void (*body)(void*), std::shared_ptr<void> ctx) {
  cudaError_t e = check_config(cfg);
  // A stream of another device than the current one is not this launch's to use.
  if (e == cudaSuccess && stream_device(cfg.stream) != current_device()) e = cudaErrorInvalidResourceHandle;
  if (e != cudaSuccess) {
    set_last_error(e);
    return;
  }
  enqueue(cfg.stream, [site, cfg, body, ctx = std::move(ctx)] { run_grid(site, cfg, body, ctx.get()); });
}

}  // namespace lits_emu
