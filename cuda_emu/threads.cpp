// Threads mode (LITS_EMU_MODE=threads): every CUDA thread an OS thread from a pool kept between
// launches, two blocks at once, so ThreadSanitizer sees the races of a kernel. The bookkeeping is
// block.cpp's, hidden from TSan, which is told only the ordering CUDA guarantees (tsan.h).
#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda_emu/block.h"
#include "cuda_emu/threads.h"
#include "cuda_emu/tsan.h"

namespace lits_emu::detail {
namespace {

// OS threads for threads mode, kept between launches: starting hundreds of threads per launch
// cost more than the kernels. run(n, f) calls f(0) .. f(n - 1) on n threads and waits for them.
class ThreadPool {
 public:
  void run(size_t n, const std::function<void(size_t)>& f) {
    std::lock_guard one_launch(launch_);
    {
      std::lock_guard lock(m_);
      while (threads_ < n) std::thread([this, i = threads_++] { work(i); }).detach();
      job_ = &f;
      active_ = remaining_ = n;
      ++generation_;
    }
    start_.notify_all();
    std::unique_lock lock(m_);
    done_.wait(lock, [&] { return remaining_ == 0; });
  }

 private:
  void work(size_t i) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(size_t)>* f;
      {
        std::unique_lock lock(m_);
        start_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (i >= active_) continue;
        f = job_;
      }
      (*f)(i);
      std::lock_guard lock(m_);
      if (--remaining_ == 0) done_.notify_all();
    }
  }

  std::mutex launch_, m_;
  std::condition_variable start_, done_;
  size_t threads_ = 0, active_ = 0, remaining_ = 0;
  uint64_t generation_ = 0;
  const std::function<void(size_t)>* job_ = nullptr;
};

}  // namespace

// Threads mode: `slots` blocks at once, each with blockDim OS threads; the last thread to leave a
// block starts the slot's next one.
void run_threads(const Site& site, const Config& cfg, void (*body)(void*), void* ctx, const RunOrder& order) {
  static ThreadPool* const pool = new ThreadPool;  // never destroyed: its threads outlive main
  const size_t slots = std::min<size_t>(order.size(), 2);
  std::vector<std::unique_ptr<Block>> blocks;
  std::vector<size_t> current(slots);
  for (size_t s = 0; s < slots; ++s) {
    blocks.push_back(std::make_unique<Block>());
    Block& b = *blocks.back();
    b.site = &site, b.cfg = &cfg, b.body = body, b.ctx = ctx;
    init_lanes(b);
    start_block(b, block_at(order[s], cfg.grid));
    current[s] = s;
  }
  const size_t size = static_cast<size_t>(blocks[0]->size);
  pool->run(slots * size, [&](size_t w) {
    const size_t s = w / size;
    Block& b = *blocks[s];
    Lane& l = b.lanes[w % size];
    t_block = &b;
    t_lane = &l;
    threadIdx = l.idx;
    blockDim = cfg.block;
    gridDim = cfg.grid;
    for (size_t k = s; k < order.size(); k += slots) {
      {
        TsanQuiet quiet;
        std::unique_lock lock(b.m);
        b.cv.wait(lock, [&] { return current[s] == k; });
        blockIdx = b.idx;
      }
      body(ctx);
      TsanQuiet quiet;
      std::lock_guard lock(b.m);
      lane_exit(b, l);
      if (b.done == b.size) {
        if (k + slots < order.size()) start_block(b, block_at(order[k + slots], cfg.grid));
        current[s] = k + slots;
        b.cv.notify_all();
      } else if (b.running == 0) {
        resolve_stall(b);
      }
    }
    t_block = nullptr;
    t_lane = nullptr;
  });
}

}  // namespace lits_emu::detail
