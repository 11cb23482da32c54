// `lits bench train`: training steps of a setup's network on one device, timed part by part: data (the
// loader's batch and its upload), forward (network and loss), backward, optimizer; samples/s and the
// device's peak memory. Without --data a temporary phantom store is made first.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "engine/allocator.h"
#include "engine/cuda_context.h"
#include "engine/error.h"
#include "models/unet.h"
#include "pipeline/loader.h"
#include "pipeline/optimizer.h"
#include "pipeline/trainer.h"
#include "tools/commands.h"
#include "tools/setup_files.h"
#include "tools/temp_store.h"

namespace lits::tools {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int run_bench_train(const BenchTrainOptions& options) {
  const std::vector<Setup> runs = load_runs(options.setup, options.base);
  Setup setup = runs.at(0);
  const Device device = parse_device(options.device);
  if (options.batch > 0) setup.set("Training", "batch_size", Value::integer(options.batch));
  if (options.size > 0)
    setup.set("Training", "crop_size", Value::list({Value::integer(options.size), Value::integer(options.size)}));
  const TrainPlan plan = make_train_plan(setup);
  LITS_CHECK(plan.data.crop_height > 0, "bench train: the setup trains on whole slices; pass --size H for a crop");

  TempStore tmp;
  const int64_t store_size = std::max<int64_t>(plan.data.crop_height, options.quick ? 64 : 512);
  const std::string dir = options.data.empty()
                              ? make_temp_phantom_store(tmp, "bench train", 3, store_size, options.quick ? 12 : 24)
                              : options.data;
  const SliceStore store(dir);
  std::vector<std::string> volumes;
  for (int64_t v = 0; v < store.volumes(); ++v)
    if (store.entry(v).labels) volumes.push_back(store.entry(v).name);
  const Dataset dataset(store, volumes, plan.data, DatasetRole::kTraining);

  Generator gen(plan.seed);
  UNet net(plan.net, gen);
  net.to(device);
  net.train();
  AdamOptimizer adam(net.named_parameters(), plan.adam);
  LoaderOptions lo;
  lo.batch_size = plan.batch;
  lo.threads = options.threads;
  lo.pin_memory = device.is_cuda();
  Loader loader(dataset, 0, lo);
  const int64_t steps = std::min<int64_t>(options.quick ? 2 : options.steps, loader.batches() - options.warmup);
  LITS_CHECK(steps >= 1, "bench train: the store gives only " << loader.batches() << " batches");

  std::printf(
      "bench train: %s, %lld parameters, batch %lld of %d x %lld x %lld, %s, on %s; %d warm-up + %lld timed "
      "steps\n",
      loss_type_name(plan.loss), static_cast<long long>(net.parameter_count()), static_cast<long long>(plan.batch),
      plan.data.channels, static_cast<long long>(plan.data.crop_height), static_cast<long long>(plan.data.crop_width),
      plan.data.augment.str().c_str(), device.str().c_str(), options.warmup, static_cast<long long>(steps));
  std::vector<double> data_ms, fwd_ms, bwd_ms, opt_ms, step_ms;
  for (int64_t i = 0; i < options.warmup + steps; ++i) {
    if (i == options.warmup) reset_peak_bytes(device);
    const auto t0 = Clock::now();
    const std::optional<Batch> b = loader.next();
    const Tensor x = b->input.to(device), t = b->target.to(device);
    const Tensor w = b->weightmap.defined() ? b->weightmap.to(device) : Tensor();
    cuda::synchronize(device);
    const auto t1 = Clock::now();
    const UNetOutput out = net.run(x);
    const Tensor loss = deep_supervision_loss(plan.loss, out.out, out.aux, t, w, plan.loss_options);
    const double value = loss.item();  // also waits for the device
    LITS_CHECK(std::isfinite(value), "bench train: loss " << value << " at step " << i);
    const auto t2 = Clock::now();
    net.zero_grad();
    loss.backward();
    cuda::synchronize(device);
    const auto t3 = Clock::now();
    adam.step(plan.adam.lr);
    cuda::synchronize(device);
    const auto t4 = Clock::now();
    if (i < options.warmup) continue;
    data_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    fwd_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    bwd_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
    opt_ms.push_back(std::chrono::duration<double, std::milli>(t4 - t3).count());
    step_ms.push_back(ms_since(t0));
  }
  const double step = median(step_ms);
  const AllocatorStats mem = allocator_stats(device);
  std::printf("%10s %10s %10s %10s %10s %12s %14s\n", "data ms", "forward", "backward", "optimizer", "step ms",
              "samples/s", "peak memory");
  std::printf("%10.1f %10.1f %10.1f %10.1f %10.1f %12.2f %11.1f MB\n", median(data_ms), median(fwd_ms), median(bwd_ms),
              median(opt_ms), step, 1e3 * static_cast<double>(plan.batch) / step, mem.peak_bytes / 1e6);
  std::printf("(medians over the timed steps; %d loader thread%s; peak memory of %s tensors during the timed steps)\n",
              options.threads, options.threads == 1 ? "" : "s", device.str().c_str());
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    LITS_CHECK(out.good(), "bench train: cannot write '" << options.json << "'");
    out << "{\"benchmark\": \"train\", \"device\": \"" << device.str() << "\", \"batch\": " << plan.batch
        << ", \"size\": " << plan.data.crop_height << ", \"data_ms\": " << median(data_ms)
        << ", \"forward_ms\": " << median(fwd_ms) << ", \"backward_ms\": " << median(bwd_ms)
        << ", \"optimizer_ms\": " << median(opt_ms) << ", \"step_ms\": " << step
        << ", \"samples_per_s\": " << 1e3 * static_cast<double>(plan.batch) / step
        << ", \"peak_bytes\": " << mem.peak_bytes << "}\n";
  }
  return 0;
}

}  // namespace lits::tools
