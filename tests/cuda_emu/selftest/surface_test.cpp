// The emulator's surface against what CUDA documents: indices of 2-D/3-D grids and blocks, warp
// shuffles (all four kinds, with widths), votes, atomics, dynamic and static shared memory, launch
// limits with CUDA's error codes, runtime refusals, and the misuses it must stop with a source line.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cuda_emu/control.h"
#include "tests/cuda_emu/selftest/surface.h"

namespace lits::emu_selftest {
namespace {

template <typename T>
std::vector<T> run_to_host(size_t n, void (*fill)(T*)) {
  T* d = nullptr;
  EXPECT_EQ(cudaMalloc(&d, n * sizeof(T)), cudaSuccess);
  fill(d);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  std::vector<T> h(n);
  EXPECT_EQ(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaSuccess);
  return h;
}

TEST(EmuSurface, IndicesOf3dBlocksIn2dGrids) {
  const auto h = run_to_host<unsigned>(4 * 6 * 64, [](unsigned* d) { launch_indices(d, dim3(3, 2), dim3(8, 4, 2)); });
  for (unsigned b = 0; b < 6; ++b)
    for (unsigned t = 0; t < 64; ++t) {
      const unsigned* o = &h[4 * (b * 64 + t)];
      EXPECT_EQ(o[0], (t % 8) | (t / 8 % 4) << 8 | (t / 32) << 16);
      EXPECT_EQ(o[1], (b % 3) | (b / 3) << 8);
      EXPECT_EQ(o[2], 8u | 4u << 8 | 2u << 16);
      EXPECT_EQ(o[3], 3u | 2u << 8 | 1u << 16);
    }
}

// CUDA's rules: a source lane outside the width-sized segment (up/down/xor) returns the lane's own
// value; __shfl_sync reads lane srcLane % width of the segment.
int expected_shuffle(int kind, int t, int arg, int width) {
  const int warp = t / 32, lane = t % 32, seg = lane & ~(width - 1);
  int src = lane;
  if (kind == 0) src = seg + arg % width;
  if (kind == 1) src = lane - arg >= seg ? lane - arg : lane;
  if (kind == 2) src = lane + arg < seg + width ? lane + arg : lane;
  if (kind == 3) src = (lane ^ arg) < seg + width ? lane ^ arg : lane;
  return 100 * warp + src;
}

TEST(EmuSurface, ShufflesOfEveryKindAndWidth) {
  struct Case {
    int kind, arg, width;
  };
  for (const Case c : {Case{0, 5, 32}, Case{0, 3, 8}, Case{1, 1, 32}, Case{1, 4, 16}, Case{2, 16, 32}, Case{2, 3, 8},
                       Case{3, 1, 32}, Case{3, 6, 4}, Case{2, 32, 32}}) {
    static Case current;
    current = c;
    const auto h = run_to_host<int>(64, [](int* d) { launch_shuffle(d, current.kind, current.arg, current.width); });
    for (int t = 0; t < 64; ++t)
      EXPECT_EQ(h[static_cast<size_t>(t)], expected_shuffle(c.kind, t, c.arg, c.width))
          << "kind " << c.kind << " arg " << c.arg << " width " << c.width << " thread " << t;
  }
}

TEST(EmuSurface, Votes) {
  const auto h = run_to_host<unsigned>(4 * 32, [](unsigned* d) { launch_vote(d); });
  for (size_t t = 0; t < 32; ++t) {
    EXPECT_EQ(h[4 * t + 0], 0x49249249u) << t;  // lanes 0, 3, 6, ... 30
    EXPECT_EQ(h[4 * t + 1], 1u);
    EXPECT_EQ(h[4 * t + 2], 0u);
    // Lanes that already left drop out of __activemask, so only the caller's own bit is certain.
    EXPECT_TRUE(h[4 * t + 3] >> t & 1u) << t;
  }
}

TEST(EmuSurface, AtomicsOfEveryType) {
  Counters* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, sizeof(Counters)), cudaSuccess);
  const Counters init;
  ASSERT_EQ(cudaMemcpy(d, &init, sizeof init, cudaMemcpyHostToDevice), cudaSuccess);
  launch_atomics(d, 5);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  Counters h;
  ASSERT_EQ(cudaMemcpy(&h, d, sizeof h, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(h.f, 320.0f);
  EXPECT_EQ(h.d, 160.0);
  EXPECT_EQ(h.i, 640);
  EXPECT_EQ(h.u, 1280u);
  EXPECT_EQ(h.lo, 0);
  EXPECT_EQ(h.hi, 639);
  EXPECT_GT(h.cas, 0);
  EXPECT_EQ(h.last, 1);
  EXPECT_EQ(cudaFree(d), cudaSuccess);
}

TEST(EmuSurface, SharedMemoryIsPerBlockAndPoisoned) {
  const auto h = run_to_host<double>(3 * 96, [](double* d) { launch_dynamic_shared(d, 3, 96, 96 * sizeof(double)); });
  for (size_t i = 0; i < h.size(); ++i) EXPECT_EQ(h[i], static_cast<double>(95 - i % 96)) << i;
  const auto u = run_to_host<double>(4, [](double* d) { launch_unwritten_shared(d); });
  for (double v : u) EXPECT_TRUE(std::isnan(v)) << "a read before any write must see the 0xFF poison, got " << v;
}

TEST(EmuSurface, LaunchLimitsGiveCudasErrors) {
  struct Case {
    dim3 grid, block;
    size_t bytes;
    cudaError_t want;
  };
  for (const Case& c : {Case{dim3(1), dim3(1025), 0, cudaErrorInvalidConfiguration},
                        Case{dim3(1), dim3(1, 1, 65), 0, cudaErrorInvalidConfiguration},
                        Case{dim3(1), dim3(64, 32), 0, cudaErrorInvalidConfiguration},
                        Case{dim3(0), dim3(32), 0, cudaErrorInvalidConfiguration},
                        Case{dim3(1, 65536), dim3(32), 0, cudaErrorInvalidConfiguration},
                        Case{dim3(1), dim3(32), 48 * 1024 + 1, cudaErrorInvalidConfiguration}}) {
    launch_config(c.grid, c.block, c.bytes, nullptr);
    EXPECT_EQ(cudaPeekAtLastError(), c.want);
    EXPECT_EQ(cudaGetLastError(), c.want);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError resets the error";
  }
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
  launch_config(dim3(1), dim3(32), 0, s);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle) << "a launch on a destroyed stream";
}

TEST(EmuSurface, RuntimeRefusesWhatCudaRefuses) {
  char* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 16), cudaSuccess);
  char host[32] = {};
  EXPECT_EQ(cudaMemcpy(host, d, 17, cudaMemcpyDeviceToHost), cudaErrorInvalidValue) << "past the allocation";
  EXPECT_EQ(cudaMemcpy(d, host, 16, cudaMemcpyDeviceToHost), cudaErrorInvalidValue) << "the wrong direction";
  EXPECT_EQ(cudaMemcpy(d + 8, host, 8, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemset(d + 1, 0, 16), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(d + 1), cudaErrorInvalidValue) << "not the start of an allocation";
  EXPECT_EQ(cudaFree(d), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaErrorInvalidValue) << "freed twice";
  (void)cudaGetLastError();
}

// The misuses stop the program with the source line (each in a child process).
TEST(EmuSurfaceDeathTest, MisusesAreDiagnosedWithTheLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(launch_misuse(0), "surface.cu:[0-9]+: cuda-emu error: .*__syncthreads reached by 54 of 64 threads");
  EXPECT_DEATH(launch_misuse(1), "surface.cu:[0-9]+: cuda-emu error: .*threads wait at different __syncthreads");
  EXPECT_DEATH(launch_misuse(2), "surface.cu:[0-9]+: cuda-emu error: .*lane 16.*exited the kernel");
  EXPECT_DEATH(launch_misuse(3), "surface.cu:[0-9]+: cuda-emu error: .*over CUDA's 48 KiB");
}

}  // namespace
}  // namespace lits::emu_selftest
