// `lits bench loader`: training batches per second from the slice store through the threaded loader
// (window, channel stack, augmentation, crop, weightmap), for each requested thread count. Without --data a
// phantom store of 512 x 512 slices is made in a temporary folder first and removed afterwards.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/error.h"
#include "pipeline/data/loader.h"
#include "tools/commands.h"
#include "tools/temp_store.h"

namespace lits::tools {
namespace {

namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int run_bench_loader(const BenchLoaderOptions& options) {
  LITS_CHECK(!options.threads.empty(), "bench loader: --workers needs at least one count");
  for (int t : options.threads)
    LITS_CHECK(t >= 0, "bench loader: --workers " << t << " is invalid (expected 0 for no workers, or more)");
  TempStore tmp;
  const std::string dir = options.data.empty()
                              ? make_temp_phantom_store(tmp, "bench loader", options.quick ? 2 : 3,
                                                        options.quick ? 128 : 512, options.quick ? 12 : 32)
                              : options.data;
  const SliceStore store(dir);
  std::vector<std::string> volumes;
  for (int64_t v = 0; v < store.volumes(); ++v)
    if (store.entry(v).labels) volumes.push_back(store.entry(v).name);
  LITS_CHECK(!volumes.empty(), "bench loader: the store '" << dir << "' holds only test volumes (no labels)");

  DatasetOptions d;
  d.task = parse_data_task(options.task);
  d.channels = options.channels;
  const int64_t crop = options.quick ? std::min<int64_t>(options.size, 64) : options.size;
  d.crop_height = d.crop_width = crop;
  if (!options.no_augment) d.augment = parse_augment_modes({"rot", "zoom", "hflip", "vflip"});
  const Dataset dataset(store, volumes, d, DatasetRole::kTraining);
  const int64_t batches_wanted = options.quick ? std::min<int64_t>(options.batches, 4) : options.batches;

  std::printf(
      "bench loader: %s training samples, %d channel%s, %lld x %lld crops, augmentation %s, weightmaps, "
      "batch %lld; %lld volumes, %lld samples per epoch; %u hardware threads\n",
      options.task.c_str(), d.channels, d.channels == 1 ? "" : "s", static_cast<long long>(crop),
      static_cast<long long>(crop), d.augment.str().c_str(), static_cast<long long>(options.batch),
      static_cast<long long>(volumes.size()), static_cast<long long>(dataset.size()),
      std::thread::hardware_concurrency());
  std::printf("%8s %10s %12s %12s %12s\n", "threads", "batches", "samples/s", "ms/batch", "MB/s out");
  std::string json = "{\"benchmark\": \"loader\", \"results\": [";
  for (size_t i = 0; i < options.threads.size(); ++i) {
    LoaderOptions lo;
    lo.batch_size = options.batch;
    lo.threads = options.threads[i];
    lo.prefetch = std::max<int64_t>(4, 2 * lo.threads);
    {  // warm-up: page cache, allocator, thread start
      Loader warm(dataset, 1000, lo);
      for (int k = 0; k < 2 && warm.next(); ++k) {
      }
    }
    Loader loader(dataset, 0, lo);
    const int64_t n = std::min(batches_wanted, loader.batches());
    const auto t0 = std::chrono::steady_clock::now();
    int64_t samples = 0, bytes = 0;
    for (int64_t b = 0; b < n; ++b) {
      const std::optional<Batch> batch = loader.next();
      samples += batch->input.shape()[0];
      for (const Tensor* t : {&batch->input, &batch->target, &batch->weightmap, &batch->liver})
        if (t->defined()) bytes += t->nbytes();
    }
    const double s = seconds_since(t0);
    std::printf("%8d %10lld %12.1f %12.2f %12.1f\n", lo.threads, static_cast<long long>(n), samples / s,
                1e3 * s / static_cast<double>(n), bytes / s / 1e6);
    std::fflush(stdout);
    json.append(i ? ", " : "")
        .append("{\"threads\": ")
        .append(std::to_string(lo.threads))
        .append(", \"samples_per_s\": ")
        .append(std::to_string(samples / s))
        .append(", \"batches\": ")
        .append(std::to_string(n))
        .append("}");
  }
  json += "]}\n";
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    LITS_CHECK(out.good(), "bench loader: cannot write '" << options.json << "'");
    out << json;
  }
  return 0;
}

}  // namespace lits::tools
