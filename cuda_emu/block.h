// The state of one emulated block and the bookkeeping both run modes share (block.cpp): which
// lane waits where, the barrier and warp-collective rules, shared memory, the diagnoses. The
// scheduler (scheduler.cpp: fibers, threads.cpp: OS threads) drives lanes through it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "cuda_emu/emu.h"
#include "cuda_emu/fiber.h"

namespace lits_emu::detail {

enum class Wait { kRunning, kBarrier, kWarp, kDone };

struct WarpOp {
  WarpKind kind = WarpKind::kSync;
  unsigned mask = 0;
  uint64_t bits = 0, result = 0;
  int arg = 0, width = 32;
};

struct Lane {
  uint3 idx{};
  int linear = 0;
  Wait wait = Wait::kRunning;
  const char* file = "";  // where it waits
  int line = 0;
  WarpOp op;
  Fiber fiber;
};

struct SharedVar {
  const char* file;
  int line;
  std::unique_ptr<unsigned char[]> data;
  size_t bytes;
};

constexpr size_t kStaticSharedLimit = 48 * 1024;  // CUDA's static shared memory per block
// The guard zone after a __shared__ variable: as large as the variable, so even an overflow by a
// whole second copy stays inside memory the emulator owns and checks. Under ASan: exact-size
// allocations, and ASan reports the first byte past the end.
inline size_t guard_bytes(size_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
  return 0 * bytes;
#else
  return bytes + 64;
#endif
}
constexpr unsigned char kGuardByte = 0xA5;

struct Block {
  const Site* site = nullptr;
  const Config* cfg = nullptr;
  void (*body)(void*) = nullptr;
  void* ctx = nullptr;
  uint3 idx{};
  int size = 0, running = 0, done = 0;
  std::vector<Lane> lanes;
  std::vector<SharedVar> shared;
  size_t static_bytes = 0;
  std::unique_ptr<unsigned char[]> dynamic;
  std::mutex m;
  std::condition_variable cv;
  // TSan's happens-before addresses (tsan.h): [g % 2] the barrier of generation g, [2 + 2w + g % 2]
  // warp w's collective of generation g. A lane can be at most one generation ahead of a lane that
  // has not yet acquired, so two alternating addresses keep a slow lane from acquiring what a fast
  // one released after the barrier. New for each block, so a block inherits no order from the one
  // that ran before it in the same slot.
  std::unique_ptr<char[]> tokens;
  uint64_t barrier_generation = 0, warp_generation[32] = {};
};

// constinit: plain thread-local loads, no wrapper call (see emu.h).
extern thread_local constinit Block* t_block;
extern thread_local constinit Lane* t_lane;

// A fresh block: lanes ready to run, shared memory new and poisoned.
void init_lanes(Block& b);
void start_block(Block& b, uint3 idx);
// The lane left the kernel (under b.m).
void lane_exit(Block& b, Lane& l);
// Every running lane waits (under b.m): release a complete barrier, or stop with what is wrong.
void resolve_stall(Block& b);
// The block of linear index k in `grid`, x fastest.
uint3 block_at(uint64_t k, dim3 grid);

// The order of LITS_EMU_ORDER over n items (the blocks of a grid, or the lanes of a block): the
// k-th item to run. Only the random order keeps a permutation; reshuffle() draws a new one.
class RunOrder {
 public:
  RunOrder(uint64_t n, std::mt19937_64& rng);
  uint64_t size() const { return n_; }
  uint64_t operator[](uint64_t k) const;
  void reshuffle();

 private:
  uint64_t n_;
  std::mt19937_64& rng_;
  std::vector<uint64_t> permutation_;
};

}  // namespace lits_emu::detail
