// `lits bench train`: training steps of a setup's network on one device, timed part by part: data (the
// loader's batch and its upload), forward (network and loss), backward, optimizer; samples/s and the
// device's peak memory. Without --data a temporary phantom store is made first.
// Under mpirun each process is a rank of a data-parallel job (the reduction's wait is timed as "comm"; rank
// 0 reports). With --ranks 1,2,... it starts those jobs itself (mpirun, OMP threads shared out) on one store
// and reports the scaling efficiency: samples/s per rank relative to one rank.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/allocator.h"
#include "engine/cuda_context.h"
#include "engine/error.h"
#include "models/setup_files.h"
#include "models/unet.h"
#include "pipeline/data/loader.h"
#include "pipeline/dist/distributed.h"
#include "pipeline/dist/grad_reducer.h"
#include "pipeline/io/json.h"
#include "pipeline/train/graph_step.h"
#include "pipeline/train/optimizer.h"
#include "pipeline/train/step.h"
#include "pipeline/train/trainer.h"
#include "tools/commands.h"
#include "tools/fma_peak.h"
#include "tools/temp_store.h"
#include "tools/torch_ratio.h"

namespace lits::tools {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The medians a run reports.
struct Figures {
  double data_ms, forward_ms, backward_ms, comm_ms, optimizer_ms, step_ms, compute_ms, samples_per_s;
};

void write_json(const std::string& path, const Device& device, const TrainPlan& plan, bool graphs, const Figures& f,
                int ranks, int64_t peak_bytes) {
  std::ofstream out(path);
  LITS_CHECK(out.good(), "bench train: cannot write '" << path << "'");
  out << "{\"benchmark\": \"train\", \"device\": \"" << device.str()
      << "\", \"emulated\": " << (device.is_cuda() && cuda_emulated() ? "true" : "false") << ", \"precision\": \""
      << precision_name(plan.precision) << "\", \"cuda_graphs\": " << (graphs ? "true" : "false")
      << ", \"batch\": " << plan.batch_size << ", \"size\": " << plan.data.crop_height << ", \"data_ms\": " << f.data_ms
      << ", \"forward_ms\": " << f.forward_ms << ", \"backward_ms\": " << f.backward_ms
      << ", \"comm_ms\": " << f.comm_ms << ", \"optimizer_ms\": " << f.optimizer_ms << ", \"step_ms\": " << f.step_ms
      << ", \"compute_ms\": " << f.compute_ms << ", \"ranks\": " << ranks << ", \"samples_per_s\": " << f.samples_per_s
      << ", \"peak_bytes\": " << peak_bytes << "}\n";
}

void print_table(const Figures& f, const BenchTrainOptions& options, const Device& device, int64_t peak_bytes) {
  std::printf("%10s %10s %10s %10s %10s %10s %12s %14s\n", "data ms", "forward", "backward", "comm", "optimizer",
              "step ms", "samples/s", "peak memory");
  std::printf("%10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %12.2f %11.1f MB\n", f.data_ms, f.forward_ms, f.backward_ms,
              f.comm_ms, f.optimizer_ms, f.step_ms, f.samples_per_s, static_cast<double>(peak_bytes) / 1e6);
  std::printf(
      "(medians over the timed steps of rank 0; %d loader thread%s; comm: the gradient reduction's wait after "
      "backward; samples/s of all ranks; peak memory of %s tensors during the timed steps)\n",
      options.threads, options.threads == 1 ? "" : "s", device.label().c_str());
}

// Untimed steps: as asked, and with CUDA graphs at least 4 (a plain step, two uncaptured, the capture).
int warmup_steps(const BenchTrainOptions& o) { return o.cuda_graphs ? std::max(o.warmup, 4) : o.warmup; }

// The size of the temporary store: enough global batches for warm-up and timed steps on `ranks` ranks.
int64_t store_slices(const BenchTrainOptions& o, int64_t batch, int ranks) {
  const int64_t needed = (warmup_steps(o) + (o.quick ? 2 : o.steps) + 1) * batch * ranks;
  return std::max<int64_t>(o.quick ? 12 : 24, (needed + 2) / 3);
}

int run_scaling(const BenchTrainOptions& options, const TrainPlan& plan) {
  std::vector<int> ranks;
  {
    std::stringstream in(options.ranks);
    std::string item;
    while (std::getline(in, item, ',')) {
      const int n = std::atoi(item.c_str());
      LITS_CHECK(n >= 1 && n <= 1024, "bench train: --ranks '" << options.ranks << "' (expected counts like 1,2,4)");
      ranks.push_back(n);
    }
  }
  LITS_CHECK(!ranks.empty(), "bench train: --ranks is empty");
  LITS_CHECK(built_with_mpi(), "bench train --ranks: this lits was built without MPI");
  LITS_CHECK(mpi_launcher().empty(), "bench train --ranks starts its own MPI jobs: run it without mpirun");
  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  LITS_CHECK(len > 0, "bench train --ranks: cannot find this executable (/proc/self/exe)");
  self[len] = '\0';
  TempStore tmp;
  const int most = *std::max_element(ranks.begin(), ranks.end());
  const std::string data =
      options.data.empty() ? make_temp_phantom_store(tmp, "bench train", 3,
                                                     std::max<int64_t>(plan.data.crop_height, options.quick ? 64 : 512),
                                                     store_slices(options, plan.batch_size, most))
                           : options.data;
  const int cores = omp_get_max_threads();
  struct Row {
    int ranks, threads;
    double step_ms, comm_ms, samples_per_s;
  };
  std::vector<Row> rows;
  const std::filesystem::path json_dir = std::filesystem::temp_directory_path();
  for (const int n : ranks) {
    const int threads = std::max(1, cores / n);
    const std::string json =
        (json_dir / ("lits_bench_scaling_" + std::to_string(::getpid()) + "_" + std::to_string(n) + ".json")).string();
    std::ostringstream cmd;
    cmd << "OMP_NUM_THREADS=" << threads << " OMPI_MCA_rmaps_base_oversubscribe=1 ";
    if (::geteuid() == 0) cmd << "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ";
    // No core binding: OpenMPI binds each rank of a small job to one core, which would starve its threads.
    cmd << quoted(LITS_MPIEXEC) << " --bind-to none -n " << n << " " << quoted(self) << " bench train --setup "
        << quoted(options.setup) << (options.base.empty() ? "" : " --base " + quoted(options.base)) << " --device "
        << quoted(options.device) << " --data " << quoted(data) << " --batch " << plan.batch_size << " --size "
        << plan.data.crop_height << " --steps " << (options.quick ? 2 : options.steps) << " --warmup " << options.warmup
        << " --workers " << options.threads << (options.cuda_graphs ? " --cuda-graphs" : "")
        << (options.deterministic ? " --deterministic" : "") << " --precision " << precision_name(plan.precision)
        << " --json " << quoted(json);
    std::printf("\nbench train: %d rank%s x %d thread%s: %s\n", n, n == 1 ? "" : "s", threads, threads == 1 ? "" : "s",
                cmd.str().c_str());
    std::fflush(stdout);
    const int rc = std::system(cmd.str().c_str());
    LITS_CHECK(rc == 0, "bench train: the job of " << n << " ranks failed (status " << rc << ")");
    const Json j = read_json_file(json);
    std::filesystem::remove(json);
    auto num = [&](const char* key) {
      const Json* v = j.find(key);
      LITS_CHECK(v != nullptr, "bench train: '" << json << "' lacks " << key);
      return v->number;
    };
    rows.push_back({n, threads, num("step_ms"), num("comm_ms"), num("samples_per_s")});
  }
  const double base = rows[0].samples_per_s / rows[0].ranks;
  std::printf("\nscaling, %s, batch %lld per rank, %d CPU threads in all (%s):\n", options.setup.c_str(),
              static_cast<long long>(plan.batch_size), cores, options.device.c_str());
  std::printf("%6s %8s %10s %10s %12s %14s %11s\n", "ranks", "threads", "step ms", "comm ms", "samples/s",
              "per rank /s", "efficiency");
  for (const Row& r : rows)
    std::printf("%6d %8d %10.1f %10.1f %12.2f %14.2f %10.1f%%\n", r.ranks, r.threads, r.step_ms, r.comm_ms,
                r.samples_per_s, r.samples_per_s / r.ranks, 100.0 * (r.samples_per_s / r.ranks) / base);
  std::printf("(efficiency: samples/s per rank relative to the first row; ranks share this machine's cores)\n");
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    LITS_CHECK(out.good(), "bench train: cannot write '" << options.json << "'");
    out << "{\"benchmark\": \"train scaling\", \"rows\": [";
    for (size_t i = 0; i < rows.size(); ++i)
      out << (i ? ", " : "") << "{\"ranks\": " << rows[i].ranks << ", \"threads\": " << rows[i].threads
          << ", \"step_ms\": " << rows[i].step_ms << ", \"samples_per_s\": " << rows[i].samples_per_s
          << ", \"efficiency\": " << (rows[i].samples_per_s / rows[i].ranks) / base << "}";
    out << "]}\n";
  }
  return 0;
}

}  // namespace

int run_bench_train(const BenchTrainOptions& options) {
  const std::vector<Setup> runs = load_runs(options.setup, options.base);
  Setup setup = runs.at(0);
  if (options.batch > 0) setup.set("Training", "batch_size", Value::integer(options.batch));
  if (!options.precision.empty()) setup.set("Training", "precision", Value::string(options.precision), "--precision");
  if (options.size > 0)
    setup.set("Training", "crop_size", Value::list({Value::integer(options.size), Value::integer(options.size)}));
  const TrainPlan plan = make_train_plan(setup);
  set_precision(plan.precision);
  if (options.deterministic) set_deterministic_algorithms(true);
  LITS_CHECK(plan.data.crop_height > 0, "bench train: the setup trains on whole slices; pass --size H for a crop");
  if (!options.ranks.empty()) return run_scaling(options, plan);

  DistributedJob job = start_distributed(options.device);
  Communicator* comm = job.comm.get();
  const Device device = job.device;
  const int rank = comm != nullptr ? comm->rank() : 0, ranks = comm != nullptr ? comm->size() : 1;
  const bool lead = rank == 0;
  TempStore tmp;
  const int64_t store_size = std::max<int64_t>(plan.data.crop_height, options.quick ? 64 : 512);
  const std::string dir = options.data.empty() ? make_temp_phantom_store(tmp, "bench train", 3, store_size,
                                                                         store_slices(options, plan.batch_size, ranks))
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
  AdamOptimizer adam(net.named_parameters(), plan.weight_decay);
  std::unique_ptr<GradReducer> reducer;
  if (comm != nullptr) {
    // As `lits train` does: rank 0's weights, its default bucket size.
    broadcast_from_rank0(net, *comm);
    reducer = std::make_unique<GradReducer>(net.parameters(), *comm, TrainOptions{}.bucket_mb << 20);
  }
  LoaderOptions lo;
  lo.batch_size = plan.batch_size;
  lo.threads = options.threads;
  lo.pin_memory = device.is_cuda();
  lo.shards = ranks;
  lo.shard = rank;
  lo.drop_last = true;  // every timed step is a full one on every rank
  Loader loader(dataset, 0, lo);
  const int warmup = warmup_steps(options);
  const int64_t steps = std::min<int64_t>(options.quick ? 2 : options.steps, loader.batches() - warmup);
  LITS_CHECK(steps >= 1, "bench train: the store gives only " << loader.batches() << " batches");

  if (lead)
    std::printf(
        "bench train: %s, %s, %lld parameters, batch %lld of %d x %lld x %lld, %s, on %s%s; %d warm-up + %lld "
        "timed steps\n",
        precision_name(plan.precision), loss_type_name(plan.loss), static_cast<long long>(net.parameter_count()),
        static_cast<long long>(plan.batch_size), plan.data.channels, static_cast<long long>(plan.data.crop_height),
        static_cast<long long>(plan.data.crop_width), plan.data.augment.str().c_str(), device.label().c_str(),
        comm != nullptr
            ? (" x " + std::to_string(ranks) + " ranks (" + comm->name() + ", " + std::to_string(reducer->buckets()) +
               " gradient bucket" + (reducer->buckets() == 1 ? ")" : "s)"))
                  .c_str()
            : "",
        warmup, static_cast<long long>(steps));
  if (lead) note_emulated_timings(device);
  std::vector<double> data_ms, fwd_ms, bwd_ms, comm_ms, opt_ms, step_ms, compute_ms;
  int64_t overlapped = 0;  // gradient buckets whose reduction started during the last backward pass
  // The trainer's step (pipeline/train/step.h), with the device synchronised at the end of each phase.
  Clock::time_point phase_end[4];
  StepConfig config;
  config.net = &net;
  config.plan = &plan;
  config.device = device;
  config.reducer = reducer.get();
  config.overlap = false;  // the trainer's Dice bookkeeping is not what is timed
  config.on_phase = [&](StepPhase p) {
    cuda::synchronize(device);
    if (p == StepPhase::kBackward && reducer) overlapped = reducer->overlapped();
    phase_end[static_cast<int>(p)] = Clock::now();
  };
  const double lr = plan.schedule.lr_at(0);
  // As one CUDA graph: its warm-up (a plain step, two uncaptured ones, the capture) is never timed, and
  // the step's phases are one launch, so only data and the whole step are timed.
  std::string why;
  const std::unique_ptr<GraphedStep> graphed =
      options.cuda_graphs ? GraphedStep::make_if_supported(config, adam, &why) : nullptr;
  LITS_CHECK(!options.cuda_graphs || graphed, "bench train --cuda-graphs: " << why);
  for (int64_t i = 0; i < warmup + steps; ++i) {
    if (i == warmup) reset_peak_bytes(device);
    const auto t0 = Clock::now();
    const std::optional<Batch> b = loader.next();
    if (graphed) phase_end[0] = Clock::now();
    const StepResult result = graphed ? graphed->run(*b, lr) : train_step(config, *b);
    LITS_CHECK(std::isfinite(result.loss), "bench train: loss " << result.loss << " at step " << i);
    if (!graphed) adam.step(lr);
    cuda::synchronize(device);
    const auto t4 = Clock::now();
    if (i < warmup) continue;
    auto ms = [](Clock::time_point from, Clock::time_point to) {
      return std::chrono::duration<double, std::milli>(to - from).count();
    };
    if (graphed) phase_end[1] = phase_end[2] = phase_end[3] = t4;
    const Clock::time_point* e = phase_end;
    data_ms.push_back(ms(t0, e[0]));
    fwd_ms.push_back(ms(e[0], e[1]));
    bwd_ms.push_back(ms(e[1], e[2]));
    comm_ms.push_back(ms(e[2], e[3]));
    opt_ms.push_back(ms(e[3], t4));
    step_ms.push_back(ms(t0, t4));
    compute_ms.push_back(ms(e[0], t4));  // the step without the loader: what other frameworks' steps compare to
  }
  const double step = median(step_ms);
  const double samples_per_s = 1e3 * static_cast<double>(plan.batch_size * ranks) / step;
  const AllocatorStats mem = allocator_stats(device);
  if (!lead) return 0;
  const Figures fig{median(data_ms), median(fwd_ms), median(bwd_ms),     median(comm_ms),
                    median(opt_ms),  step,           median(compute_ms), samples_per_s};
  print_table(fig, options, device, mem.peak_bytes);
  if (graphed)
    std::printf(
        "(CUDA graph: %lld capture%s, %lld replays; forward, backward and optimizer are one launch, timed "
        "as the forward)\n",
        static_cast<long long>(graphed->captures()), graphed->captures() == 1 ? "" : "s",
        static_cast<long long>(graphed->replays()));
  // A step's FLOPs: the forward pass, and twice that for the backward (data and weight gradients),
  // the usual count; the first conv's data gradient and the norms' and losses' work are not counted.
  const double compute = fig.compute_ms;
  const double step_flops = 3.0 * 2.0 * net.macs_per_slice(plan.data.crop_height, plan.data.crop_width) *
                            static_cast<double>(plan.batch_size);
  std::printf("compute (forward + backward + optimizer): %.1f ms, %.1f GFLOP/s (3 x the forward's FLOPs)", compute,
              step_flops / compute / 1e6);
  if (device.is_cpu()) {
    const FmaPeak peak = measure_fma_peak();
    std::printf(", %.0f %% of the measured %.1f GFLOP/s multiply-add peak (%d thread%s)",
                100 * step_flops / compute / 1e6 / peak.gflops, peak.gflops, peak.threads,
                peak.threads == 1 ? "" : "s");
  }
  std::printf("\n");
  // The stored PyTorch figures are float32 eager; other precisions are compared by compare_torch.py.
  if (plan.precision == Precision::kFp32)
    print_torch_ratio("train", options.setup, plan.batch_size, plan.data.crop_height, device.is_cuda() ? "cuda" : "cpu",
                      compute);
  if (reducer)
    std::printf("(%lld of %lld gradient buckets started their all-reduce during backward)\n",
                static_cast<long long>(overlapped), static_cast<long long>(reducer->buckets()));
  if (!options.json.empty()) write_json(options.json, device, plan, graphed != nullptr, fig, ranks, mem.peak_bytes);
  return 0;
}

}  // namespace lits::tools
