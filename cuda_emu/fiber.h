// Fibers for the emulated device: one coroutine per CUDA thread of a block, on a pooled stack with
// a guard page. Under AddressSanitizer they switch with ucontext, announced to ASan; otherwise each
// pooled stack runs a trampoline that takes lane after lane, switched with _setjmp/_longjmp, which
// makes no system call (ucontext saves the signal mask with two per switch, which made a training
// step spend most of its time in the kernel).
#pragma once

#include <setjmp.h>
#include <ucontext.h>

#include <cstddef>

namespace lits_emu {

struct Fiber {
  ucontext_t ctx{};            // the ASan build's switching
  jmp_buf jump{};              // the plain build's: where the lane yielded
  void (*fn)() = nullptr;      // what the lane runs
  size_t slot = 0;             // its pooled stack
  bool fresh = false;          // not entered yet
  void* fake_stack = nullptr;  // ASan's bookkeeping while the fiber is switched out
  char* stack = nullptr;
};

// Prepares `f` to run fn() on pooled stack number `slot` (stacks are reused block after block).
void start_fiber(Fiber& f, size_t slot, void (*fn)());
// From the scheduler: runs `f` until it yields or fn returns.
void switch_to_fiber(Fiber& f);
// From inside `f`: back to the scheduler; returns when the scheduler switches to `f` again.
void yield_to_scheduler(Fiber& f);

}  // namespace lits_emu
