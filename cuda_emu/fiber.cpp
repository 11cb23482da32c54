// Fibers: ucontext switching with the stack annotations ASan needs to follow a switch
// (__sanitizer_start/finish_switch_fiber); without them ASan reports false stack errors.
#include "cuda_emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define LITS_EMU_START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define LITS_EMU_FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define LITS_EMU_START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define LITS_EMU_FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

namespace lits_emu {
namespace {

// Kernels keep small frames; ASan's redzones and fake frames need the headroom.
constexpr size_t kStackBytes = 256 * 1024;

thread_local std::vector<char*> t_stacks;
thread_local ucontext_t t_scheduler;
thread_local const void* t_scheduler_bottom = nullptr;
thread_local size_t t_scheduler_size = 0;
thread_local void (*t_entry)() = nullptr;

char* stack_for(size_t slot) {
  while (t_stacks.size() <= slot) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* p =
        mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED || mprotect(p, page, PROT_NONE) != 0) {
      std::fprintf(stderr, "cuda-emu error: cannot map a %zu-byte fiber stack\n", kStackBytes);
      std::abort();
    }
    t_stacks.push_back(static_cast<char*>(p) + page);  // the page below is the overflow guard
  }
  return t_stacks[slot];
}

void fiber_main() {
  LITS_EMU_FINISH_SWITCH(nullptr, &t_scheduler_bottom, &t_scheduler_size);
  t_entry();
  LITS_EMU_START_SWITCH(nullptr, t_scheduler_bottom, t_scheduler_size);  // nullptr: this fiber ends
  setcontext(&t_scheduler);
}

}  // namespace

void start_fiber(Fiber& f, size_t slot, void (*fn)()) {
  f.stack = stack_for(slot);
  f.fake_stack = nullptr;
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = f.stack;
  f.ctx.uc_stack.ss_size = kStackBytes;
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, fiber_main, 0);
  t_entry = fn;
}

void switch_to_fiber(Fiber& f) {
  void* save = nullptr;
  LITS_EMU_START_SWITCH(&save, f.stack, kStackBytes);
  swapcontext(&t_scheduler, &f.ctx);
  LITS_EMU_FINISH_SWITCH(save, nullptr, nullptr);
}

void yield_to_scheduler(Fiber& f) {
  LITS_EMU_START_SWITCH(&f.fake_stack, t_scheduler_bottom, t_scheduler_size);
  swapcontext(&f.ctx, &t_scheduler);
  LITS_EMU_FINISH_SWITCH(f.fake_stack, &t_scheduler_bottom, &t_scheduler_size);
}

}  // namespace lits_emu
