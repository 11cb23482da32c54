// The data-parallel training path inside one process: with a communicator of one rank (local on the CPU,
// NCCL on a GPU) train_run takes the path of a multi-rank job (rank 0's broadcast, the weighted backward,
// bucketed gradient reduction, per-step metric reduction, sharded validation) and must give the weights of
// the plain path. On the CPU they are bit-identical (synchronized BatchNorm, composed of other ops, to
// rounding). The NCCL part runs where a GPU is (tools/gpu-check.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/comm.h"
#include "engine/device.h"
#include "pipeline/dist/distributed.h"
#include "pipeline/dist/grad_reducer.h"
#include "pipeline/train/checkpoint.h"
#include "pipeline/train/trainer.h"
#include "tests/support/errors.h"
#include "tests/support/store.h"
#include "tests/support/tensors.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

namespace fs = std::filesystem;

class DataParallel : public PhantomStore {
 protected:
  void SetUp() override { make_store(); }
  TrainOptions options(const std::string& save, const std::string& device) const {
    TrainOptions o;
    o.data = store_dir();
    o.save = (dir_ / save).string();
    o.device = device;
    o.no_date = true;
    o.threads = 1;
    o.max_steps = 30;  // into the second epoch: one validation, a resume point inside an epoch
    return o;
  }
  // Weights (and buffers) after training the tiny setup without and with `comm`; returns the largest difference.
  double compare(const std::string& device, Communicator& comm, bool batchnorm, bool sync_bn, bool exact) {
    lits::Setup s = tiny_setup();
    s.set("Network", "use_batchnorm", Value::boolean(batchnorm));
    const std::string tag = std::string(batchnorm ? "_bn" : "_gn") + (sync_bn ? "_sync" : "");
    const TrainReport plain = train_run(s, options("plain" + tag, device));
    TrainOptions o = options("comm" + tag, device);
    o.comm = &comm;
    o.sync_bn = sync_bn;
    o.bucket_mb = 1;
    const TrainReport parallel = train_run(s, o);
    EXPECT_EQ(plain.steps, 30);
    EXPECT_EQ(parallel.steps, 30);
    const LoadedCheckpoint a = load_checkpoint(plain.run_dir + "/checkpoint_latest");
    const LoadedCheckpoint b = load_checkpoint(parallel.run_dir + "/checkpoint_latest");
    EXPECT_EQ(a.state.rows.size(), 1u);
    if (exact) {
      EXPECT_EQ(a.state.loss_sum, b.state.loss_sum);
      EXPECT_EQ(a.state.rows.at(0).val_dice, b.state.rows.at(0).val_dice);
    } else {
      EXPECT_NEAR(a.state.loss_sum, b.state.loss_sum, 1e-4 * std::abs(a.state.loss_sum));
      EXPECT_NEAR(a.state.rows.at(0).val_dice, b.state.rows.at(0).val_dice, 1e-3);
    }
    double largest = 0.0;
    for (size_t i = 0; i < a.model.size(); ++i) {
      const std::vector<double> va = a.model[i].second.to_vector(), vb = b.model[i].second.to_vector();
      for (size_t k = 0; k < va.size(); ++k) largest = std::max(largest, std::abs(va[k] - vb[k]));
    }
    return largest;
  }
};

TEST_F(DataParallel, OneRankJobOnTheCpuIsBitIdenticalToThePlainPath) {
  LocalCommunicator comm;
  EXPECT_EQ(compare("cpu", comm, false, false, true), 0.0) << "GroupNorm";
  EXPECT_EQ(compare("cpu", comm, true, false, true), 0.0) << "BatchNorm with each rank's statistics";
  // Synchronized BatchNorm is composed of other ops than the fused batch_norm: equal up to rounding (which
  // Adam can amplify in a weight whose gradient is nearly zero, hence the lr-sized bound).
  EXPECT_LT(compare("cpu", comm, true, true, false), 3e-3) << "BatchNorm synchronized over one rank";
}

// The reducer on one rank: gradients come back as they were, a parameter without a gradient keeps none,
// and buckets start during the backward pass (the hooks fire as gradients complete) once the first step has
// moved the parameter that gets no gradient out of their way.
TEST(GradReducer, OneRankLeavesGradientsAndStartsBucketsDuringBackward) {
  LocalCommunicator comm;
  const Tensor a = randn({64}, 1, DType::kFloat32, true), b = randn({64}, 2, DType::kFloat32, true);
  const Tensor unused = randn({8}, 3, DType::kFloat32, true);
  GradReducer reducer({a, b, unused}, comm, 256);  // 64 floats per bucket: one parameter each
  EXPECT_EQ(reducer.buckets(), 3);
  for (int step = 0; step < 2; ++step) {
    a.zero_grad();
    b.zero_grad();
    reducer.begin();
    sum(a * b).backward();
    // Step 0: bucket 0 holds `unused` (reverse order), which gets no gradient, and nothing may start before
    // it. Step 1: `unused` is last, b's and a's buckets start during backward.
    EXPECT_EQ(reducer.overlapped(), step == 0 ? 0 : 2) << "step " << step;
    reducer.finish();
    EXPECT_EQ(a.grad().to_vector(), b.to_vector());
    EXPECT_EQ(b.grad().to_vector(), a.to_vector());
    EXPECT_FALSE(unused.grad().defined());
  }
  expect_contains(error_of([&] { GradReducer({Tensor::zeros({2})}, comm); }), {"parameter 0", "leaves requiring grad"});
}

// NCCL with one rank (its unique id made locally): the collectives, the reducer on the GPU, and a training
// run through the data-parallel path against the plain one on the same GPU.
TEST_F(DataParallel, NcclOneRankOnTheGpu) {
  if (!built_with_nccl()) GTEST_SKIP() << "this build has no NCCL";
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason();
  const Device gpu = Device::cuda(0);
  std::unique_ptr<Communicator> nccl = make_nccl_communicator(gpu, std::make_unique<LocalCommunicator>());
  EXPECT_EQ(nccl->name(), "nccl");
  EXPECT_EQ(nccl->size(), 1);
  const Tensor t = Tensor::from_values({1.0, -2.0, 3.5}, {3}, DType::kFloat32, gpu);
  const int64_t ticket = nccl->all_reduce_async(t);
  nccl->wait(ticket);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1.0, -2.0, 3.5}));
  nccl->broadcast(t, 0);
  nccl->barrier();
  std::vector<double> host{4.0, 5.0};
  nccl->all_reduce_host(host);
  EXPECT_EQ(host, (std::vector<double>{4.0, 5.0}));
  std::string bytes = "unique";
  nccl->broadcast_host(bytes, 0);
  EXPECT_EQ(bytes, "unique");
  const double largest = compare("cuda:0", *nccl, false, false, false);
  // The GPU's reductions may order sums differently from run to run (atomics): a tolerance, not identity.
  EXPECT_LT(largest, 1e-4);
  std::printf("[ nccl     ] one-rank NCCL training path vs plain: largest weight difference %.3g\n", largest);
}

// Ranks as threads of this process, for the host side of a multi-rank NCCL job in one test: what
// NCCL's set-up needs (broadcasting its unique id) and a barrier. Collectives meet at a shared table.
class ThreadRanks : public Communicator {
 public:
  struct Shared {
    int size = 0;
    std::mutex m;
    std::condition_variable cv;
    int64_t round = 0;
    int arrived = 0;
    std::vector<char> bytes;
  };
  ThreadRanks(std::shared_ptr<Shared> shared, int rank) : shared_(std::move(shared)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return shared_->size; }
  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "threads"; }
  int64_t all_reduce_async(const Tensor&) override { LITS_THROW("ThreadRanks: all_reduce is not needed here"); }
  void wait(int64_t) override {}
  void broadcast(const Tensor& t, int root) override {
    char* data = static_cast<char*>(t.data_ptr());
    const auto n = static_cast<size_t>(t.nbytes());
    meet([&] {
      if (rank_ == root) shared_->bytes.assign(data, data + n);
    });
    std::memcpy(data, shared_->bytes.data(), n);
    meet([] {});  // everyone has read before the next broadcast writes
  }
  void barrier() override {
    meet([] {});
  }
  [[noreturn]] void abort(const std::string& why) override { LITS_THROW("ThreadRanks abort: " << why); }

 private:
  template <typename F>
  void meet(F before) {
    std::unique_lock lock(shared_->m);
    before();
    const int64_t round = shared_->round;
    if (++shared_->arrived == shared_->size) {
      shared_->arrived = 0;
      ++shared_->round;
      shared_->cv.notify_all();
    } else {
      shared_->cv.wait(lock, [&] { return shared_->round != round; });
    }
  }
  std::shared_ptr<Shared> shared_;
  int rank_;
};

// Two NCCL ranks on two devices, as threads (where NCCL and two usable devices are: the emulated
// device build runs with LITS_EMU_DEVICES=2). The communicator's streams, events and collectives
// across ranks (in-place all-reduce, broadcast from rank 1, barrier) and the gradient reducer's
// buckets over them.
TEST(DataParallelThreads, NcclTwoRanksCollectivesAndGradientBuckets) {
  if (!built_with_nccl()) GTEST_SKIP() << "this build has no NCCL";
  if (cuda_device_count() < 2) GTEST_SKIP() << "needs two usable GPUs (" << cuda_device_count() << " found)";
  auto shared = std::make_shared<ThreadRanks::Shared>();
  shared->size = 2;
  std::vector<std::vector<double>> reduced(2), broadcast(2), grad_a(2), grad_b(2);
  std::vector<std::vector<int64_t>> overlapped(2);
  std::vector<double> b_values;
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      try {
        const Device gpu = Device::cuda(r);
        auto nccl = make_nccl_communicator(gpu, std::make_unique<ThreadRanks>(shared, r));
        const Tensor t = Tensor::from_values({1.0 + r, 10.0 * (r + 1), -0.5}, {3}, DType::kFloat32, gpu);
        nccl->wait(nccl->all_reduce_async(t));
        reduced[static_cast<size_t>(r)] = t.to_vector();
        const Tensor from = Tensor::from_values({100.0 + r, 200.0 + r}, {2}, DType::kFloat64, gpu);
        nccl->broadcast(from, 1);
        broadcast[static_cast<size_t>(r)] = from.to_vector();
        nccl->barrier();
        // The gradient reducer over NCCL: one parameter per bucket, reduced while backward runs (from
        // the second step, once the parameter without a gradient has moved last). Rank r's loss is
        // (r + 1) sum(a * b), so the reduced gradients are 3 b and 3 a.
        Tensor a = randn({64}, 1, DType::kFloat32, false).to(gpu), b = randn({64}, 2, DType::kFloat32, false).to(gpu);
        Tensor unused = randn({8}, 3, DType::kFloat32, false).to(gpu);
        for (Tensor* p : std::vector<Tensor*>{&a, &b, &unused}) p->set_requires_grad(true);
        GradReducer reducer({a, b, unused}, *nccl, 256);
        for (int step = 0; step < 2; ++step) {
          a.zero_grad();
          b.zero_grad();
          reducer.begin();
          scale(sum(a * b), 1.0 + r).backward();
          overlapped[static_cast<size_t>(r)].push_back(reducer.overlapped());
          reducer.finish();
        }
        grad_a[static_cast<size_t>(r)] = a.grad().to_vector();
        grad_b[static_cast<size_t>(r)] = b.grad().to_vector();
        if (r == 0) b_values = b.to_vector();
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < 2; ++r) {
    const auto i = static_cast<size_t>(r);
    EXPECT_EQ(errors[i], "") << "rank " << r;
    EXPECT_EQ(reduced[i], (std::vector<double>{3.0, 30.0, -1.0})) << "rank " << r;
    EXPECT_EQ(broadcast[i], (std::vector<double>{101.0, 201.0})) << "rank " << r;
    EXPECT_EQ(overlapped[i], (std::vector<int64_t>{0, 2})) << "rank " << r;
    ASSERT_EQ(grad_a[i].size(), 64u) << "rank " << r;
    for (size_t k = 0; k < 64; ++k) ASSERT_NEAR(grad_a[i][k], 3.0 * b_values[k], 1e-5) << "rank " << r << " at " << k;
    EXPECT_EQ(grad_b[i].size(), 64u) << "rank " << r;
  }
}

}  // namespace
}  // namespace lits::testing
