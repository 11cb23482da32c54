// Test entry point: prints what this build and machine can run before the tests start.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "engine/device.h"
#include "kernels/backends.h"
#include "kernels/gemm.h"

int main(int argc, char** argv) {
  // The emulated device build (docs/cuda-emulation.md) gives the suite two devices, so the two-rank
  // NCCL test has one per rank; read once, before the first CUDA call.
  if (lits::cuda_emulated()) setenv("LITS_EMU_DEVICES", "2", 0);
  testing::InitGoogleTest(&argc, argv);
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();  // test discovery reads this output
  std::printf("lits tests: CUDA backend %s; GPU: %s; BLAS: %s; oneDNN: %s\n",
              lits::cuda_emulated() ? "EMULATED (cuda-emu)"
              : LITS_HAVE_CUDA      ? "compiled"
                                    : "not built",
              lits::cuda_available() ? "present (CUDA tests run)"
                                     : ("none, CUDA tests skip: " + lits::cuda_unavailable_reason()).c_str(),
              lits::kernels::gemm_cpu_backend(), lits::kernels::onednn_info().c_str());
  return RUN_ALL_TESTS();
}
