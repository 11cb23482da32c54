// `lits bench ops`: median time of each engine op on one device, with the bytes it must move
// (inputs read once, outputs written once) turned into GB/s, or FLOPs into GFLOP/s for GEMM.
// Forward+backward rows time y = op(x); y.backward(g), which also copies the gradient into the
// leaf: that copy is counted in its bytes.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <vector>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/cuda_context.h"
#include "engine/ops.h"
#include "tools/commands.h"

namespace lits::tools {
namespace {

struct Row {
  std::string name;
  std::string shape;
  double ms = 0;
  double bytes = 0;
  double flops = 0;
};

double median_ms(const std::function<void()>& fn, Device device, int repeats) {
  for (int i = 0; i < 2; ++i) fn();  // warm-up: allocator cache, cuBLAS/cuDNN handles
  cuda::synchronize(device);
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    cuda::synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int run_bench_ops(const BenchOpsOptions& options) {
  const Device dev = parse_device(options.device);
  const int repeats = options.quick ? std::min(options.repeats, 3) : options.repeats;
  const Shape shape = options.quick ? Shape{2, 8, 64, 64} : Shape{4, 32, 256, 256};
  const Shape seg = options.quick ? Shape{2, 2, 64, 64} : Shape{4, 2, 256, 256};
  const int64_t gemm_n = options.quick ? 128 : 1024;
  const double f = 4.0;  // float32 bytes
  const double n = static_cast<double>(shape.numel()), ns = static_cast<double>(seg.numel());
  Generator gen(1);
  const Tensor x = normal(shape, 0, 1, gen, DType::kFloat32, dev);
  const Tensor y = normal(shape, 0, 1, gen, DType::kFloat32, dev);
  const Tensor bias = normal({1, shape[1], 1, 1}, 0, 1, gen, DType::kFloat32, dev);
  const Tensor logits = normal(seg, 0, 1, gen, DType::kFloat32, dev);
  const Tensor a = normal({gemm_n, gemm_n}, 0, 1, gen, DType::kFloat32, dev);
  const Tensor b = normal({gemm_n, gemm_n}, 0, 1, gen, DType::kFloat32, dev);
  Tensor xg = x.detach().set_requires_grad(true), lg = logits.detach().set_requires_grad(true);
  const Tensor g = Tensor::ones(shape, DType::kFloat32, dev), gs = Tensor::ones(seg, DType::kFloat32, dev);
  reset_peak_bytes(dev);

  // Every case is registered first and run once untimed before any timing, so the first op does
  // not pay for thread-pool start-up, first-touch page faults or library handle creation.
  struct Case {
    Row row;
    std::function<void()> fn;
  };
  std::vector<Case> cases;
  auto time = [&](const std::string& name, const Shape& s, double bytes, double flops,
                  const std::function<void()>& fn) {
    cases.push_back({{name, s.str(), 0.0, bytes, flops}, fn});
  };
  {
    NoGradGuard no_grad;
    time("add", shape, 3 * n * f, 0, [&] { add(x, y); });
    time("add per-channel", shape, 2 * n * f, 0, [&] { add(x, bias); });
    time("mul", shape, 3 * n * f, 0, [&] { mul(x, y); });
    time("relu", shape, 2 * n * f, 0, [&] { relu(x); });
    time("leaky_relu", shape, 2 * n * f, 0, [&] { leaky_relu(x, 0.05); });
    time("sigmoid", shape, 2 * n * f, 0, [&] { sigmoid(x); });
    time("exp", shape, 2 * n * f, 0, [&] { exp(x); });
    time("softmax (C=2)", seg, 2 * ns * f, 0, [&] { softmax(logits); });
    time("sum (all)", shape, n * f, 0, [&] { sum(x); });
    time("sum (N,H,W)", shape, n * f, 0, [&] { sum(x, {0, 2, 3}); });
    time("concat (C)", shape, 4 * n * f, 0, [&] { concat({x, y}, 1); });
    time("narrow+contiguous", shape, n * f, 0, [&] { contiguous(narrow(x, 1, 0, shape[1] / 2)); });
    time("uniform", shape, n * f, 0, [&] { uniform(shape, 0, 1, gen, DType::kFloat32, dev); });
    const double nn = static_cast<double>(gemm_n);
    time("matmul", Shape{gemm_n, gemm_n}, 3 * nn * nn * f, 2 * nn * nn * nn, [&] { matmul(a, b); });
  }
  time("relu fwd+bwd", shape, (2 + 3 + 2) * n * f, 0, [&] {
    xg.zero_grad();
    relu(xg).backward(g);
  });
  time("softmax fwd+bwd (C=2)", seg, (2 + 3 + 2) * ns * f, 0, [&] {
    lg.zero_grad();
    softmax(lg).backward(gs);
  });

  for (Case& c : cases) c.fn();
  std::vector<Row> rows;
  for (Case& c : cases) {
    c.row.ms = median_ms(c.fn, dev, repeats);
    rows.push_back(c.row);
  }
  const AllocatorStats mem = allocator_stats(dev);
  std::printf("lits bench ops on %s (%s), %d repeats, median\n", dev.str().c_str(),
              dev.is_cuda() ? cuda::device_description(dev.index).c_str()
                            : (std::to_string(omp_get_max_threads()) + " threads").c_str(),
              repeats);
  std::printf("%-24s %-20s %10s %10s %10s\n", "op", "shape", "ms", "GB/s", "GFLOP/s");
  for (const Row& r : rows) {
    std::printf("%-24s %-20s %10.3f %10.1f", r.name.c_str(), r.shape.c_str(), r.ms, r.bytes / r.ms / 1e6);
    if (r.flops > 0) std::printf(" %10.1f", r.flops / r.ms / 1e6);
    std::printf("\n");
  }
  std::printf("peak memory on %s: %.1f MiB\n", dev.str().c_str(), static_cast<double>(mem.peak_bytes) / (1 << 20));

  if (!options.json.empty()) {
    const std::string tmp = options.json + ".tmp";
    {
      std::ofstream out(tmp);
      LITS_CHECK(out.good(), "bench ops: cannot write " << tmp);
      out << "{\"device\": \"" << dev.str() << "\", \"repeats\": " << repeats << ", \"peak_bytes\": " << mem.peak_bytes
          << ", \"ops\": [\n";
      for (size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        out << "  {\"op\": \"" << r.name << "\", \"shape\": \"" << r.shape << "\", \"ms\": " << r.ms
            << ", \"gb_per_s\": " << r.bytes / r.ms / 1e6 << ", \"gflop_per_s\": " << r.flops / r.ms / 1e6 << "}"
            << (i + 1 < rows.size() ? ",\n" : "\n");
      }
      out << "]}\n";
      LITS_CHECK(out.good(), "bench ops: write to " << tmp << " failed");
    }
    LITS_CHECK(std::rename(tmp.c_str(), options.json.c_str()) == 0,
               "bench ops: cannot rename " << tmp << " to " << options.json);
  }
  return 0;
}

}  // namespace lits::tools
