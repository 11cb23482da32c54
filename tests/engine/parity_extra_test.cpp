// CUDA parity for the ops without a gradient (fill, uniform, normal: the same Philox draws on
// both devices) and for large shapes that take other kernel paths than the small op cases
// (block reductions, long broadcasts, big GEMMs, strided copies).
#include "engine/cuda_context.h"
#include "engine/ops.h"
#include "tests/support/op_cases.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

LITS_PARITY_TEST(fill, large) {
  const Tensor c = Tensor::full({3, 1000, 17}, -1.25);
  const Tensor g = Tensor::full({3, 1000, 17}, -1.25, DType::kFloat32, Device::cuda(0));
  const auto r = compare_tensors("fill", c, g, 0.0, 0.0);
  EXPECT_TRUE(r.ok) << r.report;
}

LITS_PARITY_TEST(uniform, bit_identical) {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    Generator a(42), b(42);
    a.reserve(12345);
    b.reserve(12345);
    const Tensor c = uniform({1 << 20}, -3.0, 5.0, a, dt);
    const Tensor g = uniform({1 << 20}, -3.0, 5.0, b, dt, Device::cuda(0));
    const auto r = compare_tensors(std::string("uniform ") + dtype_name(dt), c, g, 0.0, 0.0);
    EXPECT_TRUE(r.ok) << r.report;
    EXPECT_EQ(a.offset(), b.offset());
  }
}

LITS_PARITY_TEST(normal, within_an_ulp) {
  Generator a(7), b(7);
  const Tensor c = normal({1 << 20}, 0.5, 2.0, a);
  const Tensor g = normal({1 << 20}, 0.5, 2.0, b, DType::kFloat32, Device::cuda(0));
  // Integer draws are identical; double log/cos may differ by an ulp between glibc and CUDA.
  const auto r = compare_tensors("normal", c, g, 1e-6, 1e-6);
  EXPECT_TRUE(r.ok) << r.report;
}

LITS_PARITY_TEST(sum, large_block_reduction) {
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) {
        return sum(x[0], {1, 2});
      },
      std::vector<Tensor>{randn({3, 257, 1031}, 5, DType::kFloat32)}, 1e-5, 1e-3);
}

LITS_PARITY_TEST(mean, full_image) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return mean(x[0]); },
                std::vector<Tensor>{randn({4, 2, 256, 256}, 6, DType::kFloat32)}, 1e-5, 1e-6);
}

LITS_PARITY_TEST(add, large_per_channel) {
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) { return add(x[0], x[1]); },
      std::vector<Tensor>{randn({8, 64, 64, 64}, 8, DType::kFloat32), randn({1, 64, 1, 1}, 9, DType::kFloat32)}, 1e-5,
      1e-4);
}

LITS_PARITY_TEST(softmax, large_segmentation_map) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return softmax(x[0]); },
                std::vector<Tensor>{randn({4, 3, 256, 256}, 10, DType::kFloat32)}, 1e-5, 1e-6);
}

LITS_PARITY_TEST(matmul, large) {
  EXPECT_PARITY([](const std::vector<Tensor>& x) { return matmul(x[0], x[1]); },
                std::vector<Tensor>{randn({257, 129}, 11, DType::kFloat32), randn({129, 65}, 12, DType::kFloat32)},
                1e-4, 1e-4);
}

LITS_PARITY_TEST(concat, large_strided) {
  EXPECT_PARITY(
      [](const std::vector<Tensor>& x) {
        return concat({narrow(x[0], 3, 5, 100), x[1]}, 1);
      },
      std::vector<Tensor>{randn({2, 16, 64, 128}, 13, DType::kFloat32), randn({2, 8, 64, 100}, 14, DType::kFloat32)},
      0.0, 0.0);
}

TEST(CudaContext, CachingAllocatorReusesFreedBlocks) {
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  const Device gpu = Device::cuda(0);
  cuda::synchronize(gpu);
  const AllocatorStats before = allocator_stats(gpu);
  { const Tensor t = Tensor::zeros({1 << 20}, DType::kFloat32, gpu); }
  const AllocatorStats freed = allocator_stats(gpu);
  EXPECT_EQ(freed.live_bytes, before.live_bytes);
  EXPECT_GE(freed.cached_bytes, 4 << 20);
  { const Tensor t = Tensor::zeros({1 << 20}, DType::kFloat32, gpu); }
  const AllocatorStats again = allocator_stats(gpu);
  EXPECT_EQ(again.cached_bytes, freed.cached_bytes) << "the second allocation should reuse the cached block";
  EXPECT_GE(again.peak_bytes, before.live_bytes + (4 << 20));
  empty_cache(gpu);
  EXPECT_EQ(allocator_stats(gpu).cached_bytes, 0);
}

// A host-to-device copy from pinned memory is complete when Tensor::to returns: the host may
// overwrite the source at once (the loader refills its pinned batches). On the emulated device,
// where stream work runs late, dropping the wait in copy_bytes fails here: the copy would read the
// overwritten source, which the emulator reports.
TEST(CudaContext, PinnedCopiesAreCompleteWhenTheyReturn) {
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  const Device gpu = Device::cuda(0);
  Tensor pinned = Tensor::empty_pinned({1000}, DType::kFloat32);
  float* p = pinned.data<float>();
  for (int i = 0; i < 1000; ++i) p[i] = static_cast<float>(i);
  const Tensor on_gpu = pinned.to(gpu);
  for (int i = 0; i < 1000; ++i) p[i] = -1.0f;  // the next batch
  const Tensor back = on_gpu.to(Device::cpu());
  const float* b = back.data<float>();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(b[i], static_cast<float>(i)) << "at " << i;
}

TEST(CudaContext, WorkspaceGrowsOnly) {
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  auto& ctx = cuda::context(Device::cuda(0));
  void* a = ctx.workspace(1 << 20);
  EXPECT_NE(a, nullptr);
  EXPECT_GE(ctx.workspace_bytes(), 1 << 20);
  ctx.workspace(1024);
  EXPECT_GE(ctx.workspace_bytes(), 1 << 20);
  EXPECT_NE(ctx.cublas(), nullptr);
  EXPECT_NE(ctx.cudnn(), nullptr);
}

}  // namespace
}  // namespace lits::testing
