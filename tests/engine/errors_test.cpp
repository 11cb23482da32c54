// Bad input: every failure is a lits::Error that names the op, the shapes/dtypes/devices
// involved and what was expected, with the place it was detected.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

TEST(Errors, ShapeMismatchNamesOpAndShapes) {
  const std::string m = error_of([] { add(Tensor::zeros({2, 3}), Tensor::zeros({4})); });
  expect_contains(m, {"add", "[2, 3]", "[4]", "expected", ".cpp:"});
}

TEST(Errors, DtypeMismatchNamesBothTensors) {
  const std::string m = error_of([] { mul(Tensor::zeros({2}), Tensor::zeros({2}, DType::kFloat64)); });
  expect_contains(m, {"mul", "float32[2] on cpu", "float64[2] on cpu", "one dtype"});
}

TEST(Errors, MatmulShapes) {
  const std::string m = error_of([] { matmul(Tensor::zeros({2, 3}), Tensor::zeros({2, 3})); });
  expect_contains(m, {"matmul", "float32[2, 3]", "[M, K] x [K, N]"});
}

TEST(Errors, UndefinedTensor) {
  const std::string m = error_of([] { relu(Tensor()); });
  expect_contains(m, {"relu", "undefined"});
}

// A tensor on a GPU that is not there: without a GPU that is cuda:0; with GPUs (or the emulated
// device), the one after the last. Either way the error names the device.
TEST(Errors, MissingCudaDeviceIsAClearError) {
  const Device missing = Device::cuda(cuda_device_count());
  const std::string m = error_of([&] { Tensor::zeros({2}, DType::kFloat32, missing); });
  expect_contains(m, {missing.str().c_str()});
  if (!cuda_available())
    expect_contains(m, {"float32[2]"});
  else
    expect_contains(m, {"does not exist"});
  EXPECT_NE(m, "no error");
  const std::string moved = error_of([&] { Tensor::zeros({2}).to(missing); });
  expect_contains(moved, {missing.str().c_str()});
}

TEST(Errors, OpAcrossDevicesNamesTheDevices) {
  if (!cuda_available()) GTEST_SKIP() << "needs a GPU: " << cuda_unavailable_reason();
  const std::string m = error_of([] { add(Tensor::zeros({2}), Tensor::zeros({2}, DType::kFloat32, Device::cuda(0))); });
  expect_contains(m, {"add", "on cpu", "on cuda:0", "one device"});
}

TEST(Errors, SetRequiresGradOnNonLeaf) {
  const Tensor x = randn({2}, 1);
  Tensor y = exp(x);
  const std::string m = error_of([&] { y.set_requires_grad(false); });
  expect_contains(m, {"exp", "leaf"});
}

TEST(Errors, BackwardWithWrongGradientShape) {
  const Tensor x = randn({3}, 2);
  const Tensor y = exp(x);
  const std::string m = error_of([&] { y.backward(Tensor::ones({4}, DType::kFloat64)); });
  expect_contains(m, {"backward", "[4]", "[3]"});
}

}  // namespace
}  // namespace lits::testing
