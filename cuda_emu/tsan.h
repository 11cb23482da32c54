// Under ThreadSanitizer the emulator's bookkeeping (one mutex per block) would order every thread
// of a block after every other at each barrier or warp collective, and hide the very races TSan is
// there to find (a warp reading shared memory another warp writes with no barrier between). So its
// critical sections are invisible to TSan (Quiet), and the happens-before edges CUDA defines are
// added by hand: a barrier orders the threads of the block, a warp collective the lanes of the warp.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>

extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
}

namespace lits_emu {

constexpr bool kTsan = true;

struct TsanQuiet {
  TsanQuiet() {
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
    AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
  }
  ~TsanQuiet() {
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  }
  TsanQuiet(const TsanQuiet&) = delete;
  TsanQuiet& operator=(const TsanQuiet&) = delete;
};
inline void tsan_release(void* token) { __tsan_release(token); }
inline void tsan_acquire(void* token) { __tsan_acquire(token); }

}  // namespace lits_emu
#else
namespace lits_emu {

constexpr bool kTsan = false;

struct TsanQuiet {
  TsanQuiet() {}  // user-provided: a scope guard, not an unused variable
};
inline void tsan_release(void*) {}
inline void tsan_acquire(void*) {}

}  // namespace lits_emu
#endif
