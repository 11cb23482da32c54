// CUDA graphs: the engine's capture and replay (engine/cuda_graph.h) and the training step as a graph
// (pipeline/train/graph_step.h). On the emulated device every CI run checks that a replayed step gives
// results bit-identical to the same step run uncaptured, and to the plain path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/cuda_graph.h"
#include "engine/ops.h"
#include "models/unet_graph.h"
#include "pipeline/train/graph_step.h"
#include "pipeline/train/plan.h"
#include "tests/support/errors.h"
#include "tests/support/tensors.h"
#include "tests/support/tiny_run.h"

namespace lits::testing {
namespace {

#define LITS_NEEDS_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no usable GPU: " << cuda_unavailable_reason()

TEST(CudaGraph, ReplaysRepeatTheCapturedWorkOnNewInputs) {
  LITS_NEEDS_GPU();
  const Device gpu = Device::cuda(0);
  const Tensor in = Tensor::zeros({1000}, DType::kFloat32, gpu);
  Tensor out;
  cuda::Graph graph(gpu);
  graph.capture([&] {
    EXPECT_TRUE(cuda::capturing());
    out = exp(scale(in, 2.0));  // allocated in the graph's pool, written by every replay
  });
  EXPECT_FALSE(cuda::capturing());
  EXPECT_TRUE(graph.captured());
  for (double v : {0.5, -1.0, 0.25}) {
    Tensor(in).fill_(v);
    graph.replay();
    const std::vector<double> got = out.to_vector();
    EXPECT_EQ(got.front(), static_cast<double>(std::exp(static_cast<float>(2 * v))));
    EXPECT_EQ(got.back(), got.front());
  }
  // Memory allocated after the capture never lands in the graph's pool, whatever is freed meanwhile.
  const Tensor later = Tensor::zeros({1000}, DType::kFloat32, gpu);
  EXPECT_NE(later.data_ptr(), out.data_ptr());
}

TEST(CudaGraph, AHostReadDuringCaptureIsAClearError) {
  LITS_NEEDS_GPU();
  const Device gpu = Device::cuda(0);
  const Tensor x = Tensor::ones({16}, DType::kFloat32, gpu);
  cuda::Graph graph(gpu);
  expect_contains(error_of([&] { graph.capture([&] { (void)sum(x).item(); }); }), {"capturing a CUDA graph on cuda:0"});
  EXPECT_FALSE(graph.captured());
  EXPECT_FALSE(cuda::capturing());
  // The stream is usable again.
  EXPECT_EQ(sum(x).item(), 16.0);
}

// A 3-level UNet without dropout and its plan.
struct Net {
  TrainPlan plan;
  std::unique_ptr<UNet> net;
  std::unique_ptr<AdamOptimizer> adam;
  explicit Net(const Device& device) {
    Setup s = tiny_setup();
    s.set("Network", "dropout", Value::floating(0.0));
    s.set("Network", "filter_start", Value::integer(8));
    plan = make_train_plan(s);
    Generator gen(21);
    net = std::make_unique<UNet>(plan.net, gen);
    net->to(device);
    net->train();
    adam = std::make_unique<AdamOptimizer>(net->named_parameters(), 1e-4);
  }
  StepConfig config(const Device& device) const {
    StepConfig c;
    c.net = net.get();
    c.plan = &plan;
    c.device = device;
    return c;
  }
  // Every parameter, buffer (BatchNorm statistics) and moment, by name, as bytes.
  std::vector<std::pair<std::string, std::vector<char>>> state() const {
    std::vector<std::pair<std::string, std::vector<char>>> out;
    auto add = [&](const std::string& name, const Tensor& t) {
      const Tensor h = t.to(Device::cpu());
      const char* p = static_cast<const char*>(h.data_ptr());
      out.emplace_back(name, std::vector<char>(p, p + h.nbytes()));
    };
    for (const auto& [name, t] : net->named_parameters()) add(name, t);
    for (const auto& [name, t] : net->named_buffers()) add(name, t);
    for (const auto& [name, t] : adam->state()) add(name, t);
    return out;
  }
};

// Batch `k` of `size` samples: random slices, a disc target, positive weights.
Batch make_batch(int64_t k, int64_t size, bool nan = false) {
  Batch b;
  b.index = k;
  b.step_samples = size;
  b.samples.resize(static_cast<size_t>(size));
  b.input = randn({size, 1, 32, 32}, 100 + static_cast<uint64_t>(k), DType::kFloat32, false);
  if (nan) b.input.data<float>()[5] = std::nanf("");
  std::vector<int64_t> t(static_cast<size_t>(size * 32 * 32));
  for (size_t i = 0; i < t.size(); ++i) {
    const int64_t h = static_cast<int64_t>(i / 32) % 32, w = static_cast<int64_t>(i % 32);
    t[i] = (h - 16 - k) * (h - 16 - k) + (w - 12) * (w - 12) < 64;
  }
  b.target = Tensor::from_ints(t, {size, 32, 32});
  b.weightmap = randu({size, 32, 32}, 0.0, 1.0, 200 + static_cast<uint64_t>(k), DType::kFloat32, false);
  return b;
}

// Steps of two batch sizes (the second an epoch's short last batch), then the first size again.
const int64_t kSizes[] = {2, 2, 2, 2, 1, 2, 2, 2, 2};

TEST(GraphedStep, ReplaysAreBitIdenticalToTheUncapturedStepAndThePlainPath) {
  LITS_NEEDS_GPU();
  const Device gpu = Device::cuda(0);
  for (const Precision p : {Precision::kFp32, Precision::kBf16}) {
    PrecisionGuard guard(p);
    Net graphed(gpu), uncaptured(gpu), plain(gpu);
    GraphedStep a(graphed.config(gpu), *graphed.adam, 2, true);
    GraphedStep b(uncaptured.config(gpu), *uncaptured.adam, 2, false);
    const StepConfig pc = plain.config(gpu);
    for (size_t k = 0; k < std::size(kSizes); ++k) {
      const Batch batch = make_batch(static_cast<int64_t>(k), kSizes[k]);
      const StepResult ra = a.run(batch, 1e-3), rb = b.run(batch, 1e-3);
      const StepResult rc = train_step(pc, batch);
      plain.adam->step(1e-3);
      EXPECT_EQ(ra.loss, rb.loss) << precision_name(p) << " step " << k;
      EXPECT_EQ(ra.loss, rc.loss) << precision_name(p) << " step " << k;
      EXPECT_EQ(ra.overlap.both, rc.overlap.both);
    }
    // Captured after 1 plain + 2 uncaptured steps of size 2; the size-1 batch resets, the size-2 steps after
    // it warm up and capture again.
    EXPECT_EQ(a.captures(), 2);
    EXPECT_EQ(a.replays(), 3);
    EXPECT_EQ(b.captures(), 0);
    EXPECT_EQ(graphed.adam->steps(), static_cast<int64_t>(std::size(kSizes)));
    const auto sa = graphed.state(), sb = uncaptured.state(), sc = plain.state();
    ASSERT_EQ(sa.size(), sc.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      EXPECT_TRUE(sa[i] == sb[i]) << precision_name(p) << ": " << sa[i].first << " differs from the uncaptured run";
      EXPECT_TRUE(sa[i] == sc[i]) << precision_name(p) << ": " << sa[i].first << " differs from the plain path";
    }
  }
}

TEST(GraphedStep, ANonFiniteLossLeavesTheWeightsAlone) {
  LITS_NEEDS_GPU();
  const Device gpu = Device::cuda(0);
  Net n(gpu);
  GraphedStep step(n.config(gpu), *n.adam, 1, true);
  for (int64_t k = 0; k < 3; ++k) step.run(make_batch(k, 2), 1e-3);  // plain, uncaptured, captured
  ASSERT_EQ(step.captures(), 1);
  const auto before = n.state();
  const StepResult r = step.run(make_batch(3, 2, true), 1e-3);  // replayed, with a NaN input
  EXPECT_TRUE(std::isnan(r.loss));
  EXPECT_EQ(step.replays(), 2);
  EXPECT_EQ(n.adam->steps(), 3) << "the skipped step is not counted";
  const auto after = n.state();
  for (size_t i = 0; i < before.size(); ++i) {  // BatchNorm's statistics saw the NaN, as on the plain path
    if (before[i].first.find("running") == std::string::npos) {
      EXPECT_TRUE(before[i] == after[i]) << before[i].first << " changed";
    }
  }
  expect_contains(error_of([&] {
                    Batch bad = make_batch(4, 2);
                    bad.target.data<int64_t>()[7] = 5;
                    step.run(bad, 1e-3);
                  }),
                  {"target", "5", "outside [0, 2)"});
}

// Inference batches as graphs: the same bits as the eager forward, one graph per input shape (an odd size
// padded inside the graph), in fp32 and bf16.
TEST(GraphedForward, ReplaysAreBitIdenticalToTheEagerForward) {
  LITS_NEEDS_GPU();
  const Device gpu = Device::cuda(0);
  for (const Precision p : {Precision::kFp32, Precision::kBf16}) {
    PrecisionGuard guard(p);
    Net n(gpu);
    n.net->eval();
    GraphedForward graphed(*n.net);
    NoGradGuard no_grad;
    for (int k = 0; k < 7; ++k) {
      const Shape shape = k == 3 ? Shape{1, 1, 30, 27} : Shape{2, 1, 32, 32};
      const Tensor x = randn(shape, 300 + static_cast<uint64_t>(k), DType::kFloat32, false);
      const Tensor eager = n.net->run_padded(x.to(gpu), -1.0).out.to(Device::cpu());
      const Tensor replayed = graphed.run(x, -1.0).to(Device::cpu());
      ASSERT_EQ(eager.shape(), replayed.shape());
      EXPECT_EQ(std::memcmp(eager.data_ptr(), replayed.data_ptr(), static_cast<size_t>(eager.nbytes())), 0)
          << precision_name(p) << " batch " << k;
    }
    // [2, 1, 32, 32]: uncaptured, captured at the second batch, replayed from the third (5 of 6 after the first).
    EXPECT_EQ(graphed.captures(), 1);
    EXPECT_EQ(graphed.replays(), 5);
  }
}

TEST(GraphedStep, SaysWhatItCannotRun) {
  Net n(Device::cpu());
  EXPECT_NE(GraphedStep::unsupported(n.config(Device::cpu())).find("CUDA device"), std::string::npos);
  StepConfig c = n.config(Device::cuda(0));
  TrainPlan with_dropout = n.plan;
  with_dropout.net.dropout = 0.1;
  c.plan = &with_dropout;
  EXPECT_NE(GraphedStep::unsupported(c).find("dropout"), std::string::npos);
}

}  // namespace
}  // namespace lits::testing
