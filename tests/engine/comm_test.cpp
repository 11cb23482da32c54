// The communicator pieces that run in one process: the differentiable all_reduce (inside the synchronized
// BatchNorm, which on one rank must be BatchNorm itself), and the autograd hooks data-parallel training
// uses. The multi-rank behaviour is tested under mpirun (tests/pipeline/distributed_test.cpp).
#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/comm.h"
#include "engine/ops.h"
#include "tests/support/errors.h"
#include "tests/support/op_case.h"

namespace lits::testing {
namespace {

OpCase sync_bn_case(Shape x) {
  OpCase c{[](const Inputs& in) {
             // The graph keeps a pointer to the communicator: it must outlive the backward pass.
             static LocalCommunicator cpu_comm(Device::cpu()), gpu_comm(Device::cuda(0));
             LocalCommunicator& comm = in[0].device().is_cpu() ? cpu_comm : gpu_comm;
             const int64_t C = in[0].shape()[1];
             const Tensor rm = Tensor::full({C}, 0.2, in[0].dtype(), in[0].device());
             const Tensor rv = Tensor::full({C}, 1.5, in[0].dtype(), in[0].device());
             return sync_batch_norm(in[0], in[1], in[2], rm, rv, true, 0.1, 1e-5, comm);
           },
           normal_inputs({x, Shape{x[1]}, Shape{x[1]}}, 41)};
  c.rtol = 1e-4;
  c.atol = 1e-5;
  return c;
}

LITS_OP_CASE(all_reduce, sync_batch_norm_one_rank) { return sync_bn_case({3, 4, 3, 5}); }

TEST(Comm, SyncBatchNormOnOneRankIsBatchNorm) {
  const Tensor x = randn({3, 4, 5, 2}, 5, DType::kFloat64, true);
  const Tensor gamma = randn({4}, 6, DType::kFloat64, true), beta = randn({4}, 7, DType::kFloat64, true);
  const Tensor w = randn({3, 4, 5, 2}, 8, DType::kFloat64, false);
  LocalCommunicator comm;
  std::vector<std::vector<double>> got[2];
  for (int sync = 0; sync < 2; ++sync) {
    const Tensor rm = Tensor::from_values({0.5, -1.0, 0.0, 2.0}, {4}, DType::kFloat64);
    const Tensor rv = Tensor::from_values({2.0, 1.0, 0.5, 3.0}, {4}, DType::kFloat64);
    x.zero_grad();
    gamma.zero_grad();
    beta.zero_grad();
    const Tensor y = sync ? sync_batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5, comm)
                          : batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5);
    sum(y * w).backward();
    got[sync] = {y.to_vector(),        rm.to_vector(),           rv.to_vector(),
                 x.grad().to_vector(), gamma.grad().to_vector(), beta.grad().to_vector()};
  }
  const char* names[] = {"output", "running_mean", "running_var", "dx", "dgamma", "dbeta"};
  for (size_t k = 0; k < 6; ++k) {
    ASSERT_EQ(got[0][k].size(), got[1][k].size());
    for (size_t i = 0; i < got[0][k].size(); ++i)
      EXPECT_NEAR(got[1][k][i], got[0][k][i], 1e-10) << names[k] << " " << i;
  }
}

TEST(Comm, LocalCommunicatorIsOneRankAndChecksItsInput) {
  LocalCommunicator comm;
  EXPECT_EQ(comm.size(), 1);
  std::vector<double> v{1.5, -2.0};
  comm.all_reduce_host(v);
  EXPECT_EQ(v, (std::vector<double>{1.5, -2.0}));
  std::string bytes = "run folder";
  comm.broadcast_host(bytes, 0);
  EXPECT_EQ(bytes, "run folder");
  expect_contains(error_of([&] { comm.all_reduce(Tensor::from_ints({0, 0}, {2})); }), {"all_reduce", "int64"});
  expect_contains(error_of([&] { comm.broadcast(Tensor::zeros({2}), 1); }), {"rank 1", "1 rank"});
}

// The hook a leaf gets runs once per backward pass, after every contribution is summed in; set_grad
// replaces a gradient (and checks its shape).
TEST(Comm, GradReadyHookRunsOnceWithTheCompleteGradient) {
  const Tensor a = Tensor::from_values({1.0, 2.0}, {2}, DType::kFloat64).set_requires_grad(true);
  std::vector<std::vector<double>> seen;
  a.set_grad_ready_hook([&] { seen.push_back(a.grad().to_vector()); });
  sum(a * a + a * 3.0).backward();  // a used three times: d/da = 2a + 3
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<double>{5.0, 7.0}));
  sum(a).backward();  // accumulates
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], (std::vector<double>{6.0, 8.0}));
  a.set_grad_ready_hook(nullptr);
  a.set_grad(Tensor::from_values({0.5, 0.5}, {2}, DType::kFloat64));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{0.5, 0.5}));
  expect_contains(error_of([&] { a.set_grad(Tensor::zeros({3}, DType::kFloat64)); }), {"set_grad", "same shape"});
}

}  // namespace
}  // namespace lits::testing
