// Tensor basics: creation, shapes and strides, views, dtype/device transfers, release.
#include <gtest/gtest.h>

#include <cstdint>

#include "engine/allocator.h"
#include "engine/ops.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

TEST(Tensor, ContiguousNchwByDefault) {
  const Tensor t = Tensor::zeros({2, 3, 4, 5});
  EXPECT_EQ(t.ndim(), 4);
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.strides(), Shape({60, 20, 5, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.str(), "float32[2, 3, 4, 5] on cpu");
  EXPECT_EQ(t.size(-1), 5);
  EXPECT_EQ(t.nbytes(), 480);
}

TEST(Tensor, FiveDimsAtMost) {
  EXPECT_NO_THROW(Tensor::zeros({1, 2, 3, 4, 5}));
  EXPECT_THROW(Shape({1, 2, 3, 4, 5, 6}), Error);
  EXPECT_THROW(Shape({2, -1}), Error);
}

TEST(Tensor, CpuMemoryIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    const Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u) << n;
  }
}

TEST(Tensor, AllocatorCountsLiveAndPeakBytes) {
  const Device cpu = Device::cpu();
  const int64_t base = allocator_stats(cpu).live_bytes;
  reset_peak_bytes(cpu);
  {
    const Tensor a = Tensor::empty({1000}, DType::kFloat64);
    EXPECT_EQ(allocator_stats(cpu).live_bytes, base + 8000);
  }
  EXPECT_EQ(allocator_stats(cpu).live_bytes, base);
  EXPECT_GE(allocator_stats(cpu).peak_bytes, base + 8000);
}

// Large CPU blocks are kept on free and handed to the next request of the same 2 MiB bin (so a
// training step does not page-fault its activations in again); empty_cache gives them back.
TEST(Tensor, LargeCpuBlocksAreCachedAndReused) {
  const Device cpu = Device::cpu();
  empty_cache(cpu);
  EXPECT_EQ(allocator_stats(cpu).cached_bytes, 0);
  const void* first = nullptr;
  {
    const Tensor t = Tensor::empty({3 << 20}, DType::kFloat32);  // 12 MiB
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  EXPECT_EQ(allocator_stats(cpu).cached_bytes, 12 << 20);
  {
    const Tensor t = Tensor::empty({(3 << 20) - 100}, DType::kFloat32);  // the same bin
    EXPECT_EQ(t.data_ptr(), first) << "the cached block should be reused";
    EXPECT_EQ(allocator_stats(cpu).cached_bytes, 0);
  }
  { const Tensor small = Tensor::empty({1000}, DType::kFloat32); }  // below 1 MiB: not cached
  EXPECT_EQ(allocator_stats(cpu).cached_bytes, 12 << 20);
  empty_cache(cpu);
  EXPECT_EQ(allocator_stats(cpu).cached_bytes, 0);
}

TEST(Tensor, FromValuesAndToVectorRoundTrip) {
  const Tensor t = Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(Tensor::from_values({1, 2}, {3}), Error);
}

TEST(Tensor, ReshapeIsAViewOfContiguousInput) {
  const Tensor t = Tensor::from_values({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor r = reshape(t, {3, 2});
  EXPECT_EQ(r.data_ptr(), t.data_ptr());
  EXPECT_EQ(r.to_vector(), t.to_vector());
  EXPECT_THROW(reshape(t, {4, 2}), Error);
}

TEST(Tensor, NarrowIsAStridedView) {
  const Tensor t = Tensor::from_values({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  const Tensor n = narrow(t, 1, 1, 2);
  EXPECT_EQ(n.shape(), Shape({3, 2}));
  EXPECT_FALSE(n.is_contiguous());
  EXPECT_EQ(n.offset(), 1);
  EXPECT_EQ(n.to_vector(), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  const Tensor c = contiguous(n);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), n.to_vector());
  EXPECT_THROW(narrow(t, 1, 3, 2), Error);
  EXPECT_THROW(narrow(t, 2, 0, 1), Error);
}

TEST(Tensor, OpsAcceptStridedViews) {
  const Tensor t = Tensor::from_values({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  const Tensor n = narrow(t, 1, 2, 2);  // columns 2, 3
  EXPECT_EQ(add(n, n).to_vector(), (std::vector<double>{4, 6, 12, 14, 20, 22}));
  EXPECT_EQ(exp(narrow(t, 0, 0, 1)).to_vector().size(), 4u);
  EXPECT_EQ(sum(n).item(), 2 + 3 + 6 + 7 + 10 + 11);
}

TEST(Tensor, DtypeConversionAndClone) {
  const Tensor f = Tensor::from_values({0.1, 1e-3, -2.5}, {3});
  const Tensor d = f.to(DType::kFloat64);
  EXPECT_EQ(d.dtype(), DType::kFloat64);
  EXPECT_EQ(d.to_vector(), f.to_vector());
  Tensor c = d.clone();
  EXPECT_NE(c.data_ptr(), d.data_ptr());
  c.fill_(7.0);
  EXPECT_EQ(d.to_vector()[0], f.to_vector()[0]) << "clone must not alias";
}

TEST(Tensor, HalfStorageExistsButComputeRefusesIt) {
  const Tensor h = Tensor::empty({4}, DType::kFloat16);
  EXPECT_EQ(h.nbytes(), 8);
  try {
    exp(h);
    FAIL() << "expected lits::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float16"), std::string::npos) << e.what();
  }
}

TEST(Tensor, ItemNeedsOneElement) {
  EXPECT_EQ(Tensor::full({1, 1}, 2.5).item(), 2.5);
  EXPECT_THROW(Tensor::zeros({2}).item(), Error);
}

TEST(Tensor, ReleasedTensorCannotBeUsed) {
  Tensor t = Tensor::ones({16});
  const int64_t before = allocator_stats(Device::cpu()).live_bytes;
  t.release();
  EXPECT_EQ(allocator_stats(Device::cpu()).live_bytes, before - 64);
  EXPECT_TRUE(t.is_released());
  try {
    exp(t);
    FAIL() << "expected lits::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("exp"), std::string::npos) << m;
    EXPECT_NE(m.find("released"), std::string::npos) << m;
    EXPECT_NE(m.find("float32[16] on cpu"), std::string::npos) << m;
  }
  EXPECT_THROW(t.to_vector(), Error);
}

TEST(Tensor, ZeroSizeTensorsWork) {
  const Tensor z = Tensor::zeros({0, 3});
  EXPECT_EQ(z.numel(), 0);
  EXPECT_EQ(add(z, z).numel(), 0);
  EXPECT_EQ(sum(z).item(), 0.0);
}

TEST(Device, ParseAcceptsKnownForms) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  // `auto` is the first GPU when there is one; never the emulated device, which is no GPU.
  EXPECT_EQ(parse_device("auto"), cuda_available() && !cuda_emulated() ? Device::cuda(0) : Device::cpu());
  if (cuda_available()) {
    EXPECT_EQ(parse_device("cuda"), Device::cuda(0));
  }
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
  EXPECT_THROW(parse_device("gpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  if (!cuda_available()) {
    try {
      parse_device("cuda:0");
      FAIL() << "expected lits::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no GPU"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lits::testing
