// Fibers for the emulated device: one coroutine per CUDA thread of a block, on a pooled stack with
// a guard page, switched with ucontext and announced to AddressSanitizer when it is on.
#pragma once

#include <ucontext.h>

#include <cstddef>

namespace lits_emu {

struct Fiber {
  ucontext_t ctx{};
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
