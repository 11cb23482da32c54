// Fibers (fiber.h): ucontext switching with the stack annotations ASan needs to follow a switch
// (__sanitizer_start/finish_switch_fiber; without them ASan reports false stack errors), or, in
// builds without ASan, per-stack trampolines switched with _setjmp/_longjmp.
// _longjmp onto another live stack is what coroutines built on setjmp do; glibc's fortified
// longjmp would refuse it, so fortification is off in this file.
#undef _FORTIFY_SOURCE
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

#if defined(__SANITIZE_ADDRESS__)

thread_local ucontext_t t_scheduler;
thread_local const void* t_scheduler_bottom = nullptr;
thread_local size_t t_scheduler_size = 0;

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

#else

// One trampoline per pooled stack, started once (with ucontext) and then kept: it runs the entry
// of each lane given to its stack and jumps back to the scheduler when the lane ends.
struct Trampoline {
  bool started = false;
  jmp_buf idle{};  // where it waits for its next lane
};
thread_local std::vector<Trampoline> t_trampolines;
thread_local jmp_buf t_scheduler_jump;
thread_local size_t t_starting_slot = 0;

void trampoline_main() {
  const size_t slot = t_starting_slot;
  for (;;) {
    t_entry();
    if (_setjmp(t_trampolines[slot].idle) == 0) _longjmp(t_scheduler_jump, 1);
  }
}

}  // namespace

void start_fiber(Fiber& f, size_t slot, void (*fn)()) {
  f.stack = stack_for(slot);
  f.slot = slot;
  f.fn = fn;
  f.fresh = true;
  if (t_trampolines.size() <= slot) t_trampolines.resize(slot + 1);
}

void switch_to_fiber(Fiber& f) {
  if (_setjmp(t_scheduler_jump) != 0) return;  // the lane yielded or ended
  if (!f.fresh) _longjmp(f.jump, 1);
  f.fresh = false;
  t_entry = f.fn;
  Trampoline& t = t_trampolines[f.slot];
  if (t.started) _longjmp(t.idle, 1);
  t.started = true;
  t_starting_slot = f.slot;
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = f.stack;
  f.ctx.uc_stack.ss_size = kStackBytes;
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, trampoline_main, 0);
  setcontext(&f.ctx);
}

void yield_to_scheduler(Fiber& f) {
  if (_setjmp(f.jump) == 0) _longjmp(t_scheduler_jump, 1);
}

#endif

}  // namespace lits_emu
