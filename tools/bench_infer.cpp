// `lits bench infer`: inference speed of a setup's network at full slice size in eval mode (no gradients),
// as `lits segment` runs it: slices per second, per-batch time and peak memory. The weights are the
// initial ones: the speed does not depend on them. On the CPU that is the fused path
// (models/unet_fused.h) wherever it applies; --unfused times the op-by-op one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/cuda_context.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "models/setup_files.h"
#include "models/unet.h"
#include "models/unet_fused.h"
#include "models/unet_graph.h"
#include "tools/commands.h"
#include "tools/fma_peak.h"
#include "tools/torch_ratio.h"

namespace lits::tools {

int run_bench_infer(const BenchInferOptions& options) {
  const Device device = parse_device(options.device);
  set_precision(parse_precision(options.precision, "--precision"));
  const Setup setup = load_runs(options.setup, options.base).at(0);
  const UNetConfig config = unet_config_from(setup);
  const int64_t size = options.quick ? std::min<int64_t>(options.size, 64) : options.size;
  const int64_t batch = options.quick ? 1 : options.batch;
  const int repeats = options.quick ? 1 : options.repeats;
  Generator gen(1);
  UNet net(config, gen);
  net.to(device);
  net.eval();
  NoGradGuard no_grad;
  Generator data(2);
  const Tensor x = uniform({batch, config.channels, size, size}, 0.0, 1.0, data, DType::kFloat32, device);
  std::printf("bench infer: %s, %s, %lld parameters, %.2f GMAC per %lld x %lld slice, batch %lld, eval mode, on %s\n",
              options.setup.c_str(), precision_name(precision()), static_cast<long long>(net.parameter_count()),
              net.macs_per_slice(size, size) / 1e9, static_cast<long long>(size), static_cast<long long>(size),
              static_cast<long long>(batch), device.label().c_str());
  note_emulated_timings(device);
  const std::string why_not = device.is_cpu() ? FusedUNet::unsupported(net) : "not on the CPU";
  std::unique_ptr<FusedUNet> fused;
  if (why_not.empty() && !options.unfused) fused = std::make_unique<FusedUNet>(net);
  std::unique_ptr<GraphedForward> graphed;
  if (options.cuda_graphs) {
    LITS_CHECK(device.is_cuda(), "bench infer --cuda-graphs: needs a CUDA device, not " << device.str());
    graphed = std::make_unique<GraphedForward>(net);
  }
  auto forward = [&] { return fused ? fused->run(x) : graphed ? graphed->run(x, 0.0) : net.run(x).out; };
  forward();               // warm-up: allocator, cuDNN algorithm choice, the fused program
  if (graphed) forward();  // and the capture
  int64_t arena = 0;
  if (fused) {
    const std::string text = fused->describe(batch, size, size);
    std::printf("path: fused, %s", options.verbose ? text.c_str() : text.substr(0, text.find('\n') + 1).c_str());
    arena = fused->arena_bytes(batch, size, size);
  } else {
    std::printf("path: op by op (%s)%s\n", options.unfused ? "--unfused" : why_not.c_str(),
                graphed ? ", as a CUDA graph" : "");
  }
  cuda::synchronize(device);
  reset_peak_bytes(device);
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor out = forward();
    cuda::synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  std::printf("%12s %12s %12s %14s\n", "ms/batch", "ms/slice", "slices/s", "peak memory");
  // The fused program's activations live in its own arena, outside the engine's allocator.
  const int64_t peak_bytes = allocator_stats(device).peak_bytes + arena;
  std::printf("%12.1f %12.1f %12.2f %11.1f MB\n", med, med / static_cast<double>(batch),
              1e3 * static_cast<double>(batch) / med, static_cast<double>(peak_bytes) / 1e6);
  const double gflops = 2.0 * net.macs_per_slice(size, size) * static_cast<double>(batch) / (med * 1e-3) / 1e9;
  std::printf("(median of %d; %.1f GFLOP/s", repeats, gflops);
  if (device.is_cpu()) {
    const FmaPeak peak = measure_fma_peak();
    std::printf(", %.0f %% of the measured %.1f GFLOP/s multiply-add peak (%d thread%s)", 100 * gflops / peak.gflops,
                peak.gflops, peak.threads, peak.threads == 1 ? "" : "s");
  }
  std::printf(")\n");
  print_torch_ratio("infer", options.setup, batch, size, device.is_cuda() ? "cuda" : "cpu", med);
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    LITS_CHECK(out.good(), "bench infer: cannot write '" << options.json << "'");
    out << "{\"benchmark\": \"infer\", \"device\": \"" << device.str()
        << "\", \"emulated\": " << (device.is_cuda() && cuda_emulated() ? "true" : "false")
        << ", \"parameters\": " << net.parameter_count() << ", \"batch\": " << batch << ", \"size\": " << size
        << ", \"repeats\": " << repeats << ", \"ms_per_batch\": " << med
        << ", \"slices_per_s\": " << 1e3 * static_cast<double>(batch) / med
        << ", \"fused\": " << (fused ? "true" : "false") << ", \"cuda_graphs\": " << (graphed ? "true" : "false")
        << ", \"precision\": \"" << precision_name(precision()) << "\""
        << ", \"peak_bytes\": " << peak_bytes << "}\n";
  }
  return 0;
}

}  // namespace lits::tools
