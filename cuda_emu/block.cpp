// The bookkeeping of an emulated block (block.h) and the device functions that use it:
// __syncthreads, the warp collectives, __activemask, __shared__ memory. It stops the program, with
// the source line, on a barrier only part of the block reaches, threads waiting at different
// barriers, warp collectives whose masks leave out the calling lane or name lanes that never come,
// and deadlocks. __shared__ memory is allocated per block and filled with 0xFF bytes (a double
// reads NaN), with a guard zone after it that is checked at every barrier (under ASan: exact size,
// and ASan checks).
#include "cuda_emu/block.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda_emu/control.h"
#include "cuda_emu/tsan.h"

thread_local constinit uint3 threadIdx{};
thread_local constinit uint3 blockIdx{};
thread_local constinit dim3 blockDim;
thread_local constinit dim3 gridDim;

namespace lits_emu {
namespace detail {

thread_local constinit Block* t_block = nullptr;
thread_local constinit Lane* t_lane = nullptr;

namespace {

const char* kind_name(WarpKind k) {
  switch (k) {
    case WarpKind::kSync: return "__syncwarp";
    case WarpKind::kShfl: return "__shfl_sync";
    case WarpKind::kShflUp: return "__shfl_up_sync";
    case WarpKind::kShflDown: return "__shfl_down_sync";
    case WarpKind::kShflXor: return "__shfl_xor_sync";
    case WarpKind::kBallot: return "__ballot_sync";
    case WarpKind::kAny: return "__any_sync";
    case WarpKind::kAll: return "__all_sync";
  }
  return "?";
}

std::string triple(uint3 v) {
  char s[48];
  std::snprintf(s, sizeof s, "(%u,%u,%u)", v.x, v.y, v.z);
  return s;
}

[[noreturn]] void diagnose(const Block& b, const Lane& l, const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: cuda-emu error: kernel %s (launched at %s:%d), block %s, thread %s: %s [%s]\n", file,
               line, b.site->kernel, b.site->file, b.site->line, triple(b.idx).c_str(), triple(l.idx).c_str(),
               what.c_str(), settings_text().c_str());
  std::fflush(stderr);
  std::abort();
}

std::string where(const Lane& l) {
  if (l.wait == Wait::kDone) return "has exited the kernel";
  if (l.wait == Wait::kBarrier)
    return "waits at __syncthreads at " + std::string(l.file) + ":" + std::to_string(l.line);
  if (l.wait == Wait::kWarp)
    return "waits at " + std::string(kind_name(l.op.kind)) + " at " + l.file + ":" + std::to_string(l.line);
  return "is running";
}

void check_guards(const Block& b, const Lane& l) {
  for (const SharedVar& v : b.shared)
    for (size_t k = 0; k < guard_bytes(v.bytes); ++k)
      if (v.data[v.bytes + k] != kGuardByte)
        diagnose(b, l, v.file, v.line,
                 "a write " + std::to_string(k) + " bytes past the end of this __shared__ variable (" +
                     std::to_string(v.bytes) + " bytes)");
}

// Lanes of the warp that `l` belongs to: [first, first + count).
void warp_span(const Block& b, const Lane& l, int* first, int* count) {
  *first = l.linear / warpSize * warpSize;
  *count = std::min(warpSize, b.size - *first);
}

}  // namespace

void resolve_stall(Block& b) {
  for (const Lane& l : b.lanes) {
    if (l.wait != Wait::kWarp) continue;
    int first, count;
    warp_span(b, l, &first, &count);
    for (int j = 0; j < count; ++j)
      if ((l.op.mask >> j & 1u) && b.lanes[first + j].wait != Wait::kWarp)
        diagnose(
            b, l, l.file, l.line,
            std::string(kind_name(l.op.kind)) + " never completes (deadlock): lane " + std::to_string(j) +
                " of the warp, named in mask 0x" +
                [&] {
                  char s[16];
                  std::snprintf(s, sizeof s, "%08x", l.op.mask);
                  return std::string(s);
                }() +
                ", " + where(b.lanes[first + j]));
  }
  const Lane* first = nullptr;
  for (const Lane& l : b.lanes)
    if (l.wait == Wait::kBarrier) {
      first = &l;
      break;
    }
  if (!first) return;
  int arrived = 0;
  for (const Lane& l : b.lanes) arrived += l.wait == Wait::kBarrier;
  for (const Lane& l : b.lanes) {
    if (l.wait == Wait::kDone)
      diagnose(b, *first, first->file, first->line,
               "__syncthreads reached by " + std::to_string(arrived) + " of " + std::to_string(b.size) +
                   " threads: thread " + triple(l.idx) + " left the kernel without reaching it");
    if (l.wait == Wait::kBarrier &&
        (l.line != first->line || (l.file != first->file && std::strcmp(l.file, first->file) != 0)))
      diagnose(b, l, l.file, l.line,
               "threads wait at different __syncthreads: this thread here, thread " + triple(first->idx) + " at " +
                   first->file + ":" + std::to_string(first->line));
  }
  check_guards(b, *first);
  ++b.barrier_generation;
  for (Lane& l : b.lanes) l.wait = Wait::kRunning;
  b.running = b.size;
  b.cv.notify_all();
}

namespace {

// All lanes of the mask have arrived: hand out the results. Returns false while some are missing.
bool try_complete_warp(Block& b, Lane& caller) {
  const WarpOp& op = caller.op;
  int first, count;
  warp_span(b, caller, &first, &count);
  const int me = caller.linear - first;
  char mask_text[16];
  std::snprintf(mask_text, sizeof mask_text, "0x%08x", op.mask);
  if (!(op.mask >> me & 1u))
    diagnose(b, caller, caller.file, caller.line,
             std::string(kind_name(op.kind)) + " with mask " + mask_text + " that leaves out the calling lane " +
                 std::to_string(me));
  if (count < warpSize && (op.mask >> count) != 0)
    diagnose(b, caller, caller.file, caller.line,
             std::string("mask ") + mask_text + " names lanes past the end of the block (the warp has " +
                 std::to_string(count) + " lanes)");
  if (op.width < 1 || op.width > warpSize || (op.width & (op.width - 1)) != 0)
    diagnose(b, caller, caller.file, caller.line,
             "shuffle width " + std::to_string(op.width) + " is not 1, 2, 4, 8, 16 or 32");
  for (int j = 0; j < count; ++j) {
    if (!(op.mask >> j & 1u)) continue;
    const Lane& o = b.lanes[first + j];
    if (o.wait == Wait::kDone)
      diagnose(b, caller, caller.file, caller.line,
               std::string(kind_name(op.kind)) + " mask " + mask_text + " names lane " + std::to_string(j) +
                   ", which has exited the kernel");
    if (o.wait != Wait::kWarp) return false;
    if (o.op.kind != op.kind || o.op.mask != op.mask)
      diagnose(b, caller, caller.file, caller.line,
               std::string(kind_name(op.kind)) + " with mask " + mask_text + " meets lane " + std::to_string(j) +
                   " at a different collective: " + where(o));
  }
  uint64_t vote = 0;
  bool any = false, all = true;
  for (int j = 0; j < count; ++j)
    if (op.mask >> j & 1u) {
      const bool p = b.lanes[first + j].op.bits != 0;
      vote |= uint64_t(p) << j;
      any = any || p;
      all = all && p;
    }
  for (int j = 0; j < count; ++j) {
    if (!(op.mask >> j & 1u)) continue;
    Lane& o = b.lanes[first + j];
    const int w = o.op.width, seg = j & ~(w - 1);
    int src = j;
    switch (op.kind) {
      case WarpKind::kShfl: src = seg + (o.op.arg & (w - 1)); break;
      case WarpKind::kShflUp: src = j - o.op.arg >= seg ? j - o.op.arg : j; break;
      case WarpKind::kShflDown: src = j + o.op.arg < seg + w ? j + o.op.arg : j; break;
      case WarpKind::kShflXor: src = (j ^ o.op.arg) < seg + w ? j ^ o.op.arg : j; break;
      default: break;
    }
    if (src >= count || !(op.mask >> src & 1u))
      diagnose(b, o, o.file, o.line,
               std::string(kind_name(op.kind)) + ": lane " + std::to_string(j) + " reads lane " + std::to_string(src) +
                   ", which is not in mask " + mask_text + " (its value is undefined)");
    o.op.result = op.kind == WarpKind::kBallot ? vote
                  : op.kind == WarpKind::kAny  ? uint64_t(any)
                  : op.kind == WarpKind::kAll  ? uint64_t(all)
                                               : b.lanes[first + src].op.bits;
  }
  for (int j = 0; j < count; ++j)
    if (op.mask >> j & 1u) {
      b.lanes[first + j].wait = Wait::kRunning;
      ++b.running;
    }
  ++b.warp_generation[first / warpSize];
  b.cv.notify_all();
  return true;
}

// The calling lane waits until the bookkeeping lets it run again.
void wait_turn(Block& b, Lane& l, std::unique_lock<std::mutex>& lock) {
  if (settings().mode == Mode::kFibers) {
    lock.unlock();
    yield_to_scheduler(l.fiber);  // the scheduler releases or diagnoses stalls
    return;
  }
  if (b.running == 0) resolve_stall(b);
  b.cv.wait(lock, [&] { return l.wait == Wait::kRunning; });
}

Block& current_block(const char* what) {
  if (!t_block) {
    std::fprintf(stderr, "cuda-emu error: %s called outside a kernel\n", what);
    std::abort();
  }
  return *t_block;
}

// The TSan address for the barrier (warp -1) or warp `warp` at its current generation.
char* sync_token(Block& b, int warp) {
  if constexpr (!kTsan) return nullptr;  // only TSan reads it: no lock for a plain build
  TsanQuiet quiet;
  std::lock_guard lock(b.m);
  if (warp < 0) return &b.tokens[b.barrier_generation % 2];
  return &b.tokens[2 + 2 * static_cast<size_t>(warp) + b.warp_generation[warp] % 2];
}

}  // namespace

void start_block(Block& b, uint3 idx) {
  b.idx = idx;
  b.running = b.size;
  b.done = 0;
  b.shared.clear();
  b.static_bytes = 0;
  b.tokens = std::make_unique<char[]>(2 + 2 * 32);
  b.barrier_generation = 0;
  std::fill(std::begin(b.warp_generation), std::end(b.warp_generation), 0);
  b.dynamic = std::make_unique_for_overwrite<unsigned char[]>(b.cfg->smem);
  std::memset(b.dynamic.get(), 0xFF, b.cfg->smem);
  for (Lane& l : b.lanes) l.wait = Wait::kRunning;
}

void lane_exit(Block& b, Lane& l) {
  l.wait = Wait::kDone;
  ++b.done;
  --b.running;
  if (b.done == b.size) check_guards(b, l);
}

void init_lanes(Block& b) {
  const dim3 d = b.cfg->block;
  b.size = static_cast<int>(d.x * d.y * d.z);
  b.lanes = std::vector<Lane>(static_cast<size_t>(b.size));
  for (int t = 0; t < b.size; ++t) {
    Lane& l = b.lanes[static_cast<size_t>(t)];
    l.linear = t;
    l.idx = uint3{t % d.x, t / d.x % d.y, t / (d.x * d.y)};
  }
}

uint3 block_at(uint64_t k, dim3 grid) {
  return uint3{static_cast<unsigned>(k % grid.x), static_cast<unsigned>(k / grid.x % grid.y),
               static_cast<unsigned>(k / (uint64_t(grid.x) * grid.y))};
}

RunOrder::RunOrder(uint64_t n, std::mt19937_64& rng) : n_(n), rng_(rng) {
  if (settings().order != Order::kRandom) return;
  permutation_.resize(n);
  for (uint64_t k = 0; k < n; ++k) permutation_[k] = k;
  reshuffle();
}

uint64_t RunOrder::operator[](uint64_t k) const {
  if (!permutation_.empty()) return permutation_[k];
  return settings().order == Order::kReverse ? n_ - 1 - k : k;
}

void RunOrder::reshuffle() { std::shuffle(permutation_.begin(), permutation_.end(), rng_); }

}  // namespace detail

using namespace detail;

void syncthreads(const char* file, int line) {
  Block& b = current_block("__syncthreads");
  Lane& l = *t_lane;
  char* const token = sync_token(b, -1);
  tsan_release(token);
  {
    TsanQuiet quiet;
    std::unique_lock lock(b.m);
    l.wait = Wait::kBarrier;
    l.file = file;
    l.line = line;
    --b.running;
    wait_turn(b, l, lock);
  }
  tsan_acquire(token);
}

uint64_t warp_collective(const char* file, int line, WarpKind kind, unsigned mask, uint64_t bits, int arg, int width) {
  Block& b = current_block(kind_name(kind));
  Lane& l = *t_lane;
  char* const token = sync_token(b, l.linear / warpSize);
  tsan_release(token);
  uint64_t result;
  {
    TsanQuiet quiet;
    std::unique_lock lock(b.m);
    l.wait = Wait::kWarp;
    l.file = file;
    l.line = line;
    l.op = WarpOp{kind, mask, bits, 0, arg, width};
    --b.running;
    try_complete_warp(b, l);
    wait_turn(b, l, lock);
    result = l.op.result;
  }
  tsan_acquire(token);
  return result;
}

unsigned active_mask() {
  Block& b = current_block("__activemask");
  TsanQuiet quiet;
  std::lock_guard lock(b.m);
  int first, count;
  warp_span(b, *t_lane, &first, &count);
  unsigned mask = 0;
  for (int j = 0; j < count; ++j) mask |= unsigned(b.lanes[first + j].wait != Wait::kDone) << j;
  return mask;
}

void* shared_at(const char* file, int line, size_t bytes, size_t align) {
  Block& b = current_block("__shared__");
  TsanQuiet quiet;
  std::lock_guard lock(b.m);
  for (SharedVar& v : b.shared)
    if (v.line == line && (v.file == file || std::strcmp(v.file, file) == 0)) return v.data.get();
  if (b.static_bytes + bytes > kStaticSharedLimit)
    diagnose(b, *t_lane, file, line,
             "static __shared__ memory of the block would be " + std::to_string(b.static_bytes + bytes) +
                 " bytes, over CUDA's 48 KiB");
  (void)align;  // new[] of unsigned char is aligned for every fundamental type
  b.static_bytes += bytes;
  auto data = std::make_unique_for_overwrite<unsigned char[]>(bytes + guard_bytes(bytes));
  std::memset(data.get(), 0xFF, bytes);
  std::memset(data.get() + bytes, kGuardByte, guard_bytes(bytes));
  b.shared.push_back(SharedVar{file, line, std::move(data), bytes});
  return b.shared.back().data.get();
}

void* dynamic_shared_at(const char*, int) { return current_block("extern __shared__").dynamic.get(); }

}  // namespace lits_emu
