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
  const bool quick = options.quick;
  const int repeats = quick ? std::min(options.repeats, 3) : options.repeats;
  const double f = 4.0;  // float32 bytes
  Generator gen(1);
  auto randn = [&](const Shape& s, double std = 1.0) { return normal(s, 0, std, gen, DType::kFloat32, dev); };
  auto ones = [&](const Shape& s) { return Tensor::ones(s, DType::kFloat32, dev); };
  auto bytes = [&](const Shape& s) { return static_cast<double>(s.numel()) * f; };

  // ---- inputs (cases run later, so everything they use lives in this scope) ----
  const Shape shape = quick ? Shape{2, 8, 64, 64} : Shape{4, 32, 256, 256};
  const Shape seg = quick ? Shape{2, 2, 64, 64} : Shape{4, 2, 256, 256};
  const int64_t gemm_n = quick ? 128 : 1024;
  const double nn = static_cast<double>(gemm_n);
  const Tensor x = randn(shape), y = randn(shape), bias = randn({1, shape[1], 1, 1}), logits = randn(seg);
  const Tensor a = randn({gemm_n, gemm_n}), b = randn({gemm_n, gemm_n});
  const Tensor xg = x.detach().set_requires_grad(true), lg = logits.detach().set_requires_grad(true);
  const Tensor g = ones(shape), gs = ones(seg);
  // The Small preset's first encoder conv: 20 -> 40 channels, 3x3, 256 x 256, batch 4.
  const int64_t B = quick ? 1 : 4, R = quick ? 32 : 256;
  const Shape conv_in{B, 20, R, R}, conv_out{B, 40, R, R};
  const Tensor cx = randn(conv_in).set_requires_grad(true), cw = randn({40, 20, 3, 3}, 0.1).set_requires_grad(true);
  const Tensor cb = Tensor::zeros({40}, DType::kFloat32, dev).set_requires_grad(true);
  const double conv_flops = 2.0 * static_cast<double>(conv_out.numel()) * 20 * 9;
  const double conv_bytes = bytes(conv_in) + bytes(conv_out) + 40 * 20 * 9 * f;
  const Tensor cy = conv2d(cx, cw, cb, {1, 1, 1}), cg = ones(conv_out);
  // The Small preset's deepest upsampler: 640 -> 320, k4 s2 p1, 16 -> 32.
  const int64_t UB = quick ? 1 : 4, UC = quick ? 64 : 640, U = quick ? 4 : 16;
  const Tensor ux = randn({UB, UC, U, U}), uw = randn({UC, UC / 2, 4, 4}, 0.05);
  const double up_flops = 2.0 * static_cast<double>(UB * UC * U * U) * static_cast<double>(UC / 2) * 16;
  const double up_bytes = static_cast<double>(UB * UC * U * U) * 3 * f + static_cast<double>(uw.numel()) * f;
  // Normalisations and the other layers on [4, 64, 256, 256].
  const int64_t NC = quick ? 16 : 64;
  const Shape ns{B, NC, R, R};
  const double nb = bytes(ns);
  const Tensor nx = randn(ns).set_requires_grad(true);
  const Tensor gamma = ones({NC}).set_requires_grad(true);
  const Tensor beta = Tensor::zeros({NC}, DType::kFloat32, dev).set_requires_grad(true);
  const Tensor rm = Tensor::zeros({NC}, DType::kFloat32, dev), rv = ones({NC}), se_s = ones({B, NC});
  const Tensor gny = group_norm(nx, gamma, beta, NC / 2, 1e-5), gng = ones(ns);
  const Tensor bny = batch_norm(nx, gamma, beta, rm, rv, true, 0.1, 1e-5);
  // Losses on [4, 2, 256, 256] probabilities with an int64 target and a float weightmap.
  const Shape ls = seg, lpix{seg[0], seg[2], seg[3]};
  const Tensor lp = softmax(randn(ls)).detach().set_requires_grad(true);
  std::vector<int64_t> ltv(static_cast<size_t>(lpix.numel()));
  for (size_t i = 0; i < ltv.size(); ++i) ltv[i] = static_cast<int64_t>((i / 97) % 2);
  const Tensor lt = Tensor::from_ints(ltv, lpix, DType::kInt64, dev);
  const Tensor lw = uniform(lpix, 0.25, 1.0, gen, DType::kFloat32, dev);
  LossOptions lo;
  lo.wmap_weight = 3.0;
  // Forward reads p, target (8 B) and weightmap; backward reads them again and writes dp; the
  // gradient's copy into the leaf reads and writes dp once more.
  const double lpx = static_cast<double>(lpix.numel());
  const double loss_bytes = 2 * (bytes(ls) + lpx * (8 + f)) + 3 * bytes(ls);
  reset_peak_bytes(dev);

  // Every case is registered first and run once untimed before any timing, so the first op does
  // not pay for thread-pool start-up, first-touch page faults or library handle creation.
  // time() cases run under NoGradGuard; time_grad() cases record and run backward.
  struct Case {
    Row row;
    std::function<void()> fn;
    bool grad = false;
  };
  std::vector<Case> cases;
  auto add_case = [&](bool grad, const std::string& name, const Shape& s, double nbytes, double flops,
                      std::function<void()> fn) {
    cases.push_back({{name, s.str(), 0.0, nbytes, flops}, std::move(fn), grad});
  };
  auto time = [&](const std::string& name, const Shape& s, double nbytes, double flops, std::function<void()> fn) {
    add_case(false, name, s, nbytes, flops, std::move(fn));
  };
  auto time_grad = [&](const std::string& name, const Shape& s, double nbytes, double flops, std::function<void()> fn) {
    add_case(true, name, s, nbytes, flops, std::move(fn));
  };

  const double n = bytes(shape) / f, nseg = bytes(seg) / f;
  time("add", shape, 3 * n * f, 0, [&] { add(x, y); });
  time("add per-channel", shape, 2 * n * f, 0, [&] { add(x, bias); });
  time("sub", shape, 3 * n * f, 0, [&] { sub(x, y); });
  time("mul", shape, 3 * n * f, 0, [&] { mul(x, y); });
  time("div", shape, 3 * n * f, 0, [&] { div(x, y); });
  time("scale", shape, 2 * n * f, 0, [&] { scale(x, 0.5); });
  time("relu", shape, 2 * n * f, 0, [&] { relu(x); });
  time("leaky_relu", shape, 2 * n * f, 0, [&] { leaky_relu(x, 0.05); });
  time("sigmoid", shape, 2 * n * f, 0, [&] { sigmoid(x); });
  time("exp", shape, 2 * n * f, 0, [&] { exp(x); });
  time("log", shape, 2 * n * f, 0, [&] { log(x); });
  time("softmax (C=2)", seg, 2 * nseg * f, 0, [&] { softmax(logits); });
  time("sum (all)", shape, n * f, 0, [&] { sum(x); });
  time("sum (N,H,W)", shape, n * f, 0, [&] { sum(x, {0, 2, 3}); });
  time("mean (H,W)", shape, n * f, 0, [&] { mean(x, {2, 3}); });
  time("concat (C)", shape, 4 * n * f, 0, [&] { concat({x, y}, 1); });
  time("narrow+contiguous", shape, n * f, 0, [&] { contiguous(narrow(x, 1, 0, shape[1] / 2)); });
  time("split+contiguous (C)", shape, 2 * n * f, 0, [&] {
    for (const Tensor& part : split(x, {shape[1] / 2, shape[1] - shape[1] / 2}, 1)) contiguous(part);
  });
  time("uniform", shape, n * f, 0, [&] { uniform(shape, 0, 1, gen, DType::kFloat32, dev); });
  time("matmul", Shape{gemm_n, gemm_n}, 3 * nn * nn * f, 2 * nn * nn * nn, [&] { matmul(a, b); });
  time("linear", Shape{gemm_n, gemm_n}, 3 * nn * nn * f, 2 * nn * nn * nn, [&] { linear(a, b, Tensor()); });
  time_grad("relu fwd+bwd", shape, (2 + 3 + 2) * n * f, 0, [&] {
    xg.zero_grad();
    relu(xg).backward(g);
  });
  time_grad("softmax fwd+bwd (C=2)", seg, (2 + 3 + 2) * nseg * f, 0, [&] {
    lg.zero_grad();
    softmax(lg).backward(gs);
  });
  time("conv2d 3x3 20->40 fwd", conv_in, conv_bytes, conv_flops, [&] { conv2d(cx, cw, cb, {1, 1, 1}); });
  // Backward only: the graph is kept and re-run; data + weight passes (and the bias sum).
  time_grad("conv2d 3x3 20->40 bwd", conv_in, 2 * conv_bytes, 2 * conv_flops,
            [&] { cy.backward(cg, /*retain_graph=*/true); });
  time("conv_transpose2d k4s2p1", Shape{UB, UC, U, U}, up_bytes, up_flops, [&] {
    conv_transpose2d(ux, uw, Tensor(), {2, 1, 1});
  });
  // Norm forward: two passes over x for the statistics, one write.
  time("group_norm fwd", ns, 3 * nb, 0, [&] { group_norm(nx, gamma, beta, NC / 2, 1e-5); });
  // Norm backward: x and g read twice (sums, then dx), dx written, plus the leaf-gradient copy.
  time_grad("group_norm bwd", ns, 7 * nb, 0, [&] { gny.backward(gng, /*retain_graph=*/true); });
  time("batch_norm (train) fwd", ns, 3 * nb, 0, [&] { batch_norm(nx, gamma, beta, rm, rv, true, 0.1, 1e-5); });
  time_grad("batch_norm (train) bwd", ns, 7 * nb, 0, [&] { bny.backward(gng, /*retain_graph=*/true); });
  time("max_pool2d 3/2/1", ns, 1.25 * nb, 0, [&] { max_pool2d(nx, 3, 2, 1); });
  time("upsample_nearest2x", ns, 5 * nb, 0, [&] { upsample_nearest2x(nx); });
  time("dropout2d p=0.2", ns, 2 * nb, 0, [&] { dropout2d(nx, 0.2, true, gen); });
  time("global_avg_pool", ns, nb, 0, [&] { global_avg_pool(nx); });
  time("channel_scale", ns, 2 * nb, 0, [&] { channel_scale(nx, se_s); });

  time_grad("multiclass_pwce fwd+bwd", ls, loss_bytes, 0, [&] {
    lp.zero_grad();
    multiclass_pwce(lp, lt, lw, lo).backward();
  });
  time_grad("multiclass_dice fwd+bwd", ls, loss_bytes - 2 * lpx * f, 0, [&] {
    lp.zero_grad();
    multiclass_dice(lp, lt, lo).backward();
  });
  time_grad("multiclass_combined fwd+bwd", ls, loss_bytes, 0, [&] {
    lp.zero_grad();
    multiclass_combined(lp, lt, lw, lo).backward();
  });

  auto run = [](const Case& c) {
    if (c.grad) return c.fn();
    NoGradGuard no_grad;
    c.fn();
  };
  for (const Case& c : cases) run(c);
  std::vector<Row> rows;
  for (Case& c : cases) {
    c.row.ms = median_ms([&] { run(c); }, dev, repeats);
    rows.push_back(c.row);
  }
  const AllocatorStats mem = allocator_stats(dev);
  std::printf("lits bench ops on %s (%s), %d repeats, median\n", dev.str().c_str(),
              dev.is_cuda() ? cuda::device_description(dev.index).c_str()
                            : (std::to_string(omp_get_max_threads()) + " threads").c_str(),
              repeats);
  std::printf("%-30s %-20s %10s %10s %10s\n", "op", "shape", "ms", "GB/s", "GFLOP/s");
  for (const Row& r : rows) {
    std::printf("%-30s %-20s %10.3f %10.1f", r.name.c_str(), r.shape.c_str(), r.ms, r.bytes / r.ms / 1e6);
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
