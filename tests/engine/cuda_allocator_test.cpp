// The caching CUDA allocator's accounting when memory runs out (engine/cuda_allocator.cpp): live
// and peak bytes, the cache given back to the driver before an out-of-memory error, and a clear
// error when even that is not enough. Out-of-memory is injected, so these run on the emulated
// device (LITS_CUDA_EMU=ON: cuda_emu/control.h), where the device's memory size and the failing
// cudaMalloc can be chosen; other builds skip them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/allocator.h"
#include "engine/cuda_context.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/tensor.h"

#if LITS_CUDA_EMULATED
#include "cuda_emu/control.h"
#endif

namespace lits::testing {
namespace {

#if LITS_CUDA_EMULATED

constexpr int64_t kMiB = 1 << 20;

// Each test starts from an empty cache and a device of `limit` bytes, and leaves the defaults.
class EmulatedAllocator : public ::testing::Test {
 protected:
  void SetUp() override {
    cuda::synchronize(gpu);
    empty_cache(gpu);
    saved_limit = lits_emu::memory_limit();
  }
  void TearDown() override {
    lits_emu::fail_allocation(0);
    lits_emu::set_memory_limit(saved_limit);
    empty_cache(gpu);
  }
  // The device's memory is what is live now plus `free_bytes`.
  void leave_free(int64_t free_bytes) {
    lits_emu::set_memory_limit(lits_emu::device_live_bytes(0) + static_cast<size_t>(free_bytes));
  }
  const Device gpu = Device::cuda(0);
  size_t saved_limit = 0;
};

TEST_F(EmulatedAllocator, InjectedFailureIsRetriedAfterTheCacheIsReturned) {
  { const Tensor t = Tensor::zeros({4 * kMiB / 4}, DType::kFloat32, gpu); }  // 4 MiB into the cache
  const AllocatorStats cached = allocator_stats(gpu);
  ASSERT_GE(cached.cached_bytes, 4 * kMiB);
  // The next cudaMalloc (for a size the cache does not hold) fails once: the allocator must give
  // its cache back and try again, which succeeds.
  lits_emu::fail_allocation(1);
  const Tensor t = Tensor::zeros({6 * kMiB / 4}, DType::kFloat32, gpu);
  cuda::synchronize(gpu);
  const AllocatorStats after = allocator_stats(gpu);
  EXPECT_EQ(after.cached_bytes, 0) << "the cache should have been returned before the retry";
  EXPECT_EQ(after.live_bytes, cached.live_bytes + 6 * kMiB);
  EXPECT_GE(after.peak_bytes, after.live_bytes);
  EXPECT_EQ(after.allocations, cached.allocations + 1);
}

TEST_F(EmulatedAllocator, OutOfMemoryIsAClearErrorAndTheCountsStayRight) {
  const AllocatorStats before = allocator_stats(gpu);
  leave_free(8 * kMiB);
  const Tensor a = Tensor::zeros({4 * kMiB / 4}, DType::kFloat32, gpu);
  std::string message;
  try {
    const Tensor b = Tensor::zeros({6 * kMiB / 4}, DType::kFloat32, gpu);  // 4 + 6 > 8 MiB
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("CUDA out of memory on cuda:0"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(6 * kMiB) + " bytes"), std::string::npos) << message;
  const AllocatorStats after = allocator_stats(gpu);
  EXPECT_EQ(after.live_bytes, before.live_bytes + 4 * kMiB) << "a failed allocation must not be counted";
  EXPECT_EQ(after.allocations, before.allocations + 1);
  // What fits still works after the failure.
  const Tensor c = Tensor::zeros({2 * kMiB / 4}, DType::kFloat32, gpu);
  EXPECT_EQ(allocator_stats(gpu).live_bytes, before.live_bytes + 6 * kMiB);
}

TEST_F(EmulatedAllocator, TheCacheIsReturnedWhenTheDeviceIsFull) {
  leave_free(8 * kMiB);
  { const Tensor t = Tensor::zeros({6 * kMiB / 4}, DType::kFloat32, gpu); }  // cached, device nearly full
  EXPECT_GE(allocator_stats(gpu).cached_bytes, 6 * kMiB);
  // 4 MiB more does not fit beside the cached 6 MiB: only a returned cache makes room.
  const Tensor t = Tensor::zeros({4 * kMiB / 4}, DType::kFloat32, gpu);
  cuda::synchronize(gpu);
  EXPECT_EQ(allocator_stats(gpu).cached_bytes, 0);
}

TEST_F(EmulatedAllocator, FailureOnTheNthAllocationOfATrainingLikeLoop) {
  // Allocations 1 to 4 succeed, the 5th cudaMalloc fails twice in a row (the retry too), so the
  // 5th tensor is an error; the ones before keep their memory and the counts.
  const AllocatorStats before = allocator_stats(gpu);
  std::vector<Tensor> kept;
  lits_emu::fail_allocation(5);
  // Sizes that are whole 2 MiB bins, so the counts are exact: 2, 4, 6 and 8 MiB.
  for (int i = 0; i < 4; ++i) kept.push_back(Tensor::zeros({(i + 1) * 2 * kMiB / 4}, DType::kFloat32, gpu));
  lits_emu::set_memory_limit(lits_emu::device_live_bytes(0));  // the retry finds no room either
  EXPECT_THROW(kept.push_back(Tensor::zeros({10 * kMiB / 4}, DType::kFloat32, gpu)), Error);
  const AllocatorStats after = allocator_stats(gpu);
  EXPECT_EQ(after.live_bytes, before.live_bytes + (2 + 4 + 6 + 8) * kMiB);
  EXPECT_EQ(after.allocations, before.allocations + 4);
}

#else

TEST(EmulatedAllocator, NeedsTheEmulatedDevice) {
  GTEST_SKIP() << "out-of-memory is injected on the emulated device only (configure with -DLITS_CUDA_EMU=ON)";
}

#endif

}  // namespace
}  // namespace lits::testing
