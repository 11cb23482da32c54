// `lits bench ops`: median time of each engine op on one device, with the bytes it must move
// (inputs read once, outputs written once) turned into GB/s, or FLOPs into GFLOP/s for GEMM.
// Forward+backward rows time y = op(x); y.backward(g), which also copies the gradient into the
// leaf: that copy is counted in its bytes. Every op of the registry (engine/op_registry.cpp) must
// have a row: the command refuses to run otherwise, so a new op cannot go unmeasured. On the CPU,
// FLOP rows also show their fraction of the machine's multiply-add peak, measured first.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <vector>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/comm.h"
#include "engine/cuda_context.h"
#include "engine/op_registry.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "tools/commands.h"
#include "tools/fma_peak.h"

namespace lits::tools {
namespace {

constexpr double kF = 4.0;  // float32 bytes

struct Row {
  std::string name;
  std::string shape;
  double ms = 0;
  double bytes = 0;
  double flops = 0;
};

// One timed row. `covers`: the registry ops it exercises (space-separated). time() cases run under
// NoGradGuard; grad cases record and run backward.
struct Case {
  std::string covers;
  Row row;
  std::function<void()> fn;
  bool grad = false;
};

struct Cases {
  std::vector<Case> list;
  void time(const std::string& covers, const std::string& name, const Shape& s, double nbytes, double flops,
            std::function<void()> fn) {
    list.push_back({covers, {name, s.str(), 0.0, nbytes, flops}, std::move(fn), false});
  }
  void time_grad(const std::string& covers, const std::string& name, const Shape& s, double nbytes, double flops,
                 std::function<void()> fn) {
    list.push_back({covers, {name, s.str(), 0.0, nbytes, flops}, std::move(fn), true});
  }
};

double bytes_of(const Shape& s) { return static_cast<double>(s.numel()) * kF; }

// Every input the cases use; it outlives them (the cases capture it by reference).
struct Inputs {
  Device dev;
  Generator gen{1};
  Shape shape, seg;
  int64_t gemm_n = 0;
  Tensor x, y, bias, logits, a, b, xg, lg, g, gs;
  // The Small preset's first encoder conv: 20 -> 40 channels, 3x3, 256 x 256, batch 4.
  int64_t B = 0, R = 0;
  Shape conv_in, conv_out;
  Tensor cx, cw, cb, cy, cg;
  // The Small preset's deepest upsampler: 640 -> 320, k4 s2 p1, 16 -> 32.
  int64_t UB = 0, UC = 0, U = 0;
  Tensor ux, uw;
  // Normalisations and the other layers on [4, 64, 256, 256].
  int64_t NC = 0;
  Shape ns;
  Tensor nx, gamma, beta, rm, rv, se_s, gny, gng, bny;
  // Losses on [4, 2, 256, 256] probabilities (and [4, 1, 256, 256] for the binary ones) with an
  // int64 target and a float weightmap.
  Shape lpix, bin;
  Tensor lp, lt, lw, bp;
  LossOptions lo;
  // Adam on one parameter of x's shape with its gradient set.
  Tensor ap, am, av;
  int64_t adam_steps = 0;
  LocalCommunicator comm;

  Inputs(Device device, bool quick) : dev(device), comm(device) {
    auto randn = [&](const Shape& s, double std = 1.0) { return normal(s, 0, std, gen, DType::kFloat32, dev); };
    auto ones = [&](const Shape& s) { return Tensor::ones(s, DType::kFloat32, dev); };
    auto zeros = [&](const Shape& s) { return Tensor::zeros(s, DType::kFloat32, dev); };
    shape = quick ? Shape{2, 8, 64, 64} : Shape{4, 32, 256, 256};
    seg = quick ? Shape{2, 2, 64, 64} : Shape{4, 2, 256, 256};
    gemm_n = quick ? 128 : 1024;
    x = randn(shape), y = randn(shape), bias = randn({1, shape[1], 1, 1}), logits = randn(seg);
    a = randn({gemm_n, gemm_n}), b = randn({gemm_n, gemm_n});
    xg = x.detach().set_requires_grad(true), lg = logits.detach().set_requires_grad(true);
    g = ones(shape), gs = ones(seg);
    B = quick ? 1 : 4, R = quick ? 32 : 256;
    conv_in = {B, 20, R, R}, conv_out = {B, 40, R, R};
    cx = randn(conv_in).set_requires_grad(true), cw = randn({40, 20, 3, 3}, 0.1).set_requires_grad(true);
    cb = zeros({40}).set_requires_grad(true);
    cy = conv2d(cx, cw, cb, {1, 1, 1}), cg = ones(conv_out);
    UB = quick ? 1 : 4, UC = quick ? 64 : 640, U = quick ? 4 : 16;
    ux = randn({UB, UC, U, U}), uw = randn({UC, UC / 2, 4, 4}, 0.05);
    NC = quick ? 16 : 64;
    ns = {B, NC, R, R};
    nx = randn(ns).set_requires_grad(true);
    gamma = ones({NC}).set_requires_grad(true), beta = zeros({NC}).set_requires_grad(true);
    rm = zeros({NC}), rv = ones({NC}), se_s = ones({B, NC});
    gny = group_norm(nx, gamma, beta, NC / 2, 1e-5), gng = ones(ns);
    bny = batch_norm(nx, gamma, beta, rm, rv, true, 0.1, 1e-5);
    lpix = {seg[0], seg[2], seg[3]}, bin = {seg[0], 1, seg[2], seg[3]};
    lp = softmax(randn(seg)).detach().set_requires_grad(true);
    bp = sigmoid(randn(bin)).detach().set_requires_grad(true);
    std::vector<int64_t> ltv(static_cast<size_t>(lpix.numel()));
    for (size_t i = 0; i < ltv.size(); ++i) ltv[i] = static_cast<int64_t>((i / 97) % 2);
    lt = Tensor::from_ints(ltv, lpix, DType::kInt64, dev);
    lw = uniform(lpix, 0.25, 1.0, gen, DType::kFloat32, dev);
    lo.wmap_weight = 3.0;
    ap = randn(shape).set_requires_grad(true), am = zeros(shape), av = zeros(shape);
    ap.set_grad(randn(shape, 0.01));
  }
};

void add_tensor_cases(Inputs& in, Cases& c) {
  const Shape& shape = in.shape;
  const double n = bytes_of(shape) / kF, nseg = bytes_of(in.seg) / kF, f = kF, nn = static_cast<double>(in.gemm_n);
  c.time("add", "add", shape, 3 * n * f, 0, [&] { add(in.x, in.y); });
  c.time("add", "add per-channel", shape, 2 * n * f, 0, [&] { add(in.x, in.bias); });
  c.time("sub", "sub", shape, 3 * n * f, 0, [&] { sub(in.x, in.y); });
  c.time("mul", "mul", shape, 3 * n * f, 0, [&] { mul(in.x, in.y); });
  c.time("div", "div", shape, 3 * n * f, 0, [&] { div(in.x, in.y); });
  c.time("scale", "scale", shape, 2 * n * f, 0, [&] { scale(in.x, 0.5); });
  c.time("relu", "relu", shape, 2 * n * f, 0, [&] { relu(in.x); });
  c.time("leaky_relu", "leaky_relu", shape, 2 * n * f, 0, [&] { leaky_relu(in.x, 0.05); });
  c.time("sigmoid", "sigmoid", shape, 2 * n * f, 0, [&] { sigmoid(in.x); });
  c.time("exp", "exp", shape, 2 * n * f, 0, [&] { exp(in.x); });
  c.time("log", "log", shape, 2 * n * f, 0, [&] { log(in.x); });
  c.time("softmax", "softmax (C=2)", in.seg, 2 * nseg * f, 0, [&] { softmax(in.logits); });
  c.time("sum", "sum (all)", shape, n * f, 0, [&] { sum(in.x); });
  c.time("sum", "sum (N,H,W)", shape, n * f, 0, [&] { sum(in.x, {0, 2, 3}); });
  c.time("mean", "mean (H,W)", shape, n * f, 0, [&] { mean(in.x, {2, 3}); });
  c.time("sum_to", "sum_to [1,C,1,1]", shape, n * f, 0, [&] { sum_to(in.x, {1, shape[1], 1, 1}); });
  c.time("concat", "concat (C)", shape, 4 * n * f, 0, [&] { concat({in.x, in.y}, 1); });
  c.time("narrow contiguous", "narrow+contiguous", shape, n * f, 0,
         [&] { contiguous(narrow(in.x, 1, 0, shape[1] / 2)); });
  // A reshape of a non-contiguous view copies (of a contiguous tensor it is a free view).
  c.time("narrow reshape", "narrow+reshape (copy)", shape, n * f, 0, [&] {
    reshape(narrow(in.x, 1, 0, shape[1] / 2), {shape[0] * (shape[1] / 2), shape[2], shape[3]});
  });
  c.time("split contiguous", "split+contiguous (C)", shape, 2 * n * f, 0, [&] {
    for (const Tensor& part : split(in.x, {shape[1] / 2, shape[1] - shape[1] / 2}, 1)) contiguous(part);
  });
  c.time("fill", "fill (Tensor::full)", shape, n * f, 0, [&] { Tensor::full(shape, 0.5, DType::kFloat32, in.dev); });
  c.time("uniform", "uniform", shape, n * f, 0, [&] { uniform(shape, 0, 1, in.gen, DType::kFloat32, in.dev); });
  c.time("normal", "normal", shape, n * f, 0, [&] { normal(shape, 0, 1, in.gen, DType::kFloat32, in.dev); });
  c.time("all_reduce", "all_reduce (1 rank: a copy)", shape, 2 * n * f, 0, [&] { all_reduce(in.x, in.comm); });
  c.time("matmul", "matmul", Shape{in.gemm_n, in.gemm_n}, 3 * nn * nn * f, 2 * nn * nn * nn,
         [&] { matmul(in.a, in.b); });
  c.time("linear", "linear", Shape{in.gemm_n, in.gemm_n}, 3 * nn * nn * f, 2 * nn * nn * nn,
         [&] { linear(in.a, in.b, Tensor()); });
  c.time_grad("relu", "relu fwd+bwd", shape, (2 + 3 + 2) * n * f, 0, [&] {
    in.xg.zero_grad();
    relu(in.xg).backward(in.g);
  });
  c.time_grad("softmax", "softmax fwd+bwd (C=2)", in.seg, (2 + 3 + 2) * nseg * f, 0, [&] {
    in.lg.zero_grad();
    softmax(in.lg).backward(in.gs);
  });
  // Adam reads the parameter, its gradient and both moments, and writes the parameter and moments.
  c.time("adam_step", "adam_step", shape, 7 * n * f, 0,
         [&] { adam_step({in.ap}, {in.am}, {in.av}, ++in.adam_steps, AdamHyper{}); });
}

void add_layer_cases(Inputs& in, Cases& c) {
  const double f = kF, nb = bytes_of(in.ns);
  const double conv_flops = 2.0 * static_cast<double>(in.conv_out.numel()) * 20 * 9;
  const double conv_bytes = bytes_of(in.conv_in) + bytes_of(in.conv_out) + 40 * 20 * 9 * f;
  const double up_flops = 2.0 * static_cast<double>(in.UB * in.UC * in.U * in.U) * static_cast<double>(in.UC / 2) * 16;
  const double up_bytes =
      static_cast<double>(in.UB * in.UC * in.U * in.U) * 3 * f + static_cast<double>(in.uw.numel()) * f;
  c.time("conv2d", "conv2d 3x3 20->40 fwd", in.conv_in, conv_bytes, conv_flops, [&] {
    conv2d(in.cx, in.cw, in.cb, {1, 1, 1});
  });
  // Backward only: the graph is kept and re-run; data + weight passes (and the bias sum).
  c.time_grad("conv2d", "conv2d 3x3 20->40 bwd", in.conv_in, 2 * conv_bytes, 2 * conv_flops,
              [&] { in.cy.backward(in.cg, /*retain_graph=*/true); });
  c.time("conv_transpose2d", "conv_transpose2d k4s2p1", Shape{in.UB, in.UC, in.U, in.U}, up_bytes, up_flops, [&] {
    conv_transpose2d(in.ux, in.uw, Tensor(), {2, 1, 1});
  });
  // Norm forward: two passes over x for the statistics, one write.
  c.time("group_norm", "group_norm fwd", in.ns, 3 * nb, 0,
         [&] { group_norm(in.nx, in.gamma, in.beta, in.NC / 2, 1e-5); });
  // Norm backward: x and g read twice (sums, then dx), dx written, plus the leaf-gradient copy.
  c.time_grad("group_norm", "group_norm bwd", in.ns, 7 * nb, 0,
              [&] { in.gny.backward(in.gng, /*retain_graph=*/true); });
  c.time("batch_norm", "batch_norm (train) fwd", in.ns, 3 * nb, 0,
         [&] { batch_norm(in.nx, in.gamma, in.beta, in.rm, in.rv, true, 0.1, 1e-5); });
  c.time_grad("batch_norm", "batch_norm (train) bwd", in.ns, 7 * nb, 0,
              [&] { in.bny.backward(in.gng, /*retain_graph=*/true); });
  c.time("max_pool2d", "max_pool2d 3/2/1", in.ns, 1.25 * nb, 0, [&] { max_pool2d(in.nx, 3, 2, 1); });
  c.time("upsample_nearest2x", "upsample_nearest2x", in.ns, 5 * nb, 0, [&] { upsample_nearest2x(in.nx); });
  c.time("dropout2d", "dropout2d p=0.2", in.ns, 2 * nb, 0, [&] { dropout2d(in.nx, 0.2, true, in.gen); });
  c.time("global_avg_pool", "global_avg_pool", in.ns, nb, 0, [&] { global_avg_pool(in.nx); });
  c.time("channel_scale", "channel_scale", in.ns, 2 * nb, 0, [&] { channel_scale(in.nx, in.se_s); });
}

void add_loss_cases(Inputs& in, Cases& c) {
  // Forward reads p, target (8 B) and weightmap; backward reads them again and writes dp; the
  // gradient's copy into the leaf reads and writes dp once more.
  const double lpx = static_cast<double>(in.lpix.numel());
  const auto loss_bytes = [&](const Shape& p) { return 2 * (bytes_of(p) + lpx * (8 + kF)) + 3 * bytes_of(p); };
  const double multi = loss_bytes(in.seg), binary = loss_bytes(in.bin), no_wmap = 2 * lpx * kF;
  // One row per loss: `leaf` is the input whose gradient is reset, `loss` the scalar to backpropagate.
  auto loss_row = [&](const std::string& op, const Shape& s, double nbytes, const Tensor& leaf,
                      std::function<Tensor()> loss) {
    c.time_grad(op, op + " fwd+bwd", s, nbytes, 0, [&leaf, loss] {
      leaf.zero_grad();
      loss().backward();
    });
  };
  loss_row("multiclass_pwce", in.seg, multi, in.lp, [&] { return multiclass_pwce(in.lp, in.lt, in.lw, in.lo); });
  loss_row("multiclass_dice", in.seg, multi - no_wmap, in.lp, [&] { return multiclass_dice(in.lp, in.lt, in.lo); });
  loss_row("multiclass_combined", in.seg, multi, in.lp,
           [&] { return multiclass_combined(in.lp, in.lt, in.lw, in.lo); });
  loss_row("binary_pwce", in.bin, binary, in.bp, [&] { return binary_pwce(in.bp, in.lt, in.lw, in.lo); });
  loss_row("weighted_binary_dice", in.bin, binary, in.bp,
           [&] { return weighted_binary_dice(in.bp, in.lt, in.lw, in.lo); });
  loss_row("focal_pwce", in.seg, multi, in.lp, [&] { return focal_pwce(in.lp, in.lt, in.lw, in.lo); });
  loss_row("focal_dice", in.seg, multi - no_wmap, in.lp, [&] { return focal_dice(in.lp, in.lt, in.lo); });
  loss_row("cross_entropy", in.seg, multi, in.lg, [&] { return cross_entropy(in.lg, in.lt, in.lw, in.lo); });
  loss_row("dice_ce", in.seg, multi, in.lg, [&] { return dice_ce(in.lg, in.lt, in.lw, in.lo); });
}

// Registered ops that no case covers, comma-separated (empty when every op has a row).
std::string uncovered_ops(const std::vector<Case>& cases) {
  std::set<std::string> covered;
  for (const Case& c : cases) {
    std::istringstream words(c.covers);
    for (std::string w; words >> w;) covered.insert(w);
  }
  std::string missing;
  for (const OpInfo& op : op_registry())
    if (!covered.count(op.name)) missing += (missing.empty() ? "" : ", ") + op.name;
  return missing;
}

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

// The device's copy bandwidth, measured in this run: a contiguous copy of `bytes`, read once and written
// once (on CUDA a device-to-device cudaMemcpyAsync). Memory-bound ops are reported as a fraction of it.
double copy_gbps(Device dev, int64_t bytes, int repeats) {
  const Tensor src = Tensor::zeros({bytes / 4}, DType::kFloat32, dev),
               dst = Tensor::empty({bytes / 4}, DType::kFloat32, dev);
  const double ms = median_ms([&] { Tensor(dst).copy_(src); }, dev, repeats);
  return 2.0 * static_cast<double>(bytes) / ms / 1e6;
}

// The goal of docs/gpu-fast-path.md for memory-bound kernels.
constexpr double kCopyGoal = 0.85;

void write_json(const std::string& path, Device dev, int repeats, const AllocatorStats& mem, double peak_gflops,
                double copy, const std::vector<Row>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    LITS_CHECK(out.good(), "bench ops: cannot write " << tmp);
    out << "{\"device\": \"" << dev.str()
        << "\", \"emulated\": " << (dev.is_cuda() && cuda_emulated() ? "true" : "false") << ", \"repeats\": " << repeats
        << ", \"peak_bytes\": " << mem.peak_bytes << ", \"fma_peak_gflop_per_s\": " << peak_gflops
        << ", \"copy_gb_per_s\": " << copy << ", \"ops\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      out << "  {\"op\": \"" << r.name << "\", \"shape\": \"" << r.shape << "\", \"ms\": " << r.ms
          << ", \"gb_per_s\": " << r.bytes / r.ms / 1e6 << ", \"gflop_per_s\": " << r.flops / r.ms / 1e6
          << ", \"of_copy\": " << (r.flops > 0 ? 0.0 : r.bytes / r.ms / 1e6 / copy) << "}"
          << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    out << "]}\n";
    LITS_CHECK(out.good(), "bench ops: write to " << tmp << " failed");
  }
  LITS_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "bench ops: cannot rename " << tmp << " to " << path);
}

}  // namespace

int run_bench_ops(const BenchOpsOptions& options) {
  const Device dev = parse_device(options.device);
  const int repeats = options.quick ? std::min(options.repeats, 3) : options.repeats;
  Inputs in(dev, options.quick);
  Cases cases;
  add_tensor_cases(in, cases);
  add_layer_cases(in, cases);
  add_loss_cases(in, cases);
  const std::string missing = uncovered_ops(cases.list);
  LITS_CHECK(missing.empty(), "bench ops: registered ops without a row: "
                                  << missing << " (add a case for each to tools/bench_ops.cpp; every op in "
                                  << "engine/op_registry.cpp must be measured)");
  reset_peak_bytes(dev);

  // Every case runs once untimed before any timing, so the first op does not pay for thread-pool
  // start-up, first-touch page faults or library handle creation.
  auto run = [](const Case& c) {
    if (c.grad) return c.fn();
    NoGradGuard no_grad;
    c.fn();
  };
  for (const Case& c : cases.list) run(c);
  std::vector<Row> rows;
  for (Case& c : cases.list) {
    c.row.ms = median_ms([&] { run(c); }, dev, repeats);
    rows.push_back(c.row);
  }
  const AllocatorStats mem = allocator_stats(dev);
  // 256 MiB on a GPU, far beyond its caches; the largest input's size on the CPU.
  const double copy = copy_gbps(dev, dev.is_cuda() && !options.quick ? int64_t{256} << 20 : in.x.nbytes(), repeats);
  std::printf("lits bench ops on %s (%s), %d repeats, median\n", dev.label().c_str(),
              dev.is_cuda() ? cuda::device_description(dev.index).c_str()
                            : (std::to_string(omp_get_max_threads()) + " threads").c_str(),
              repeats);
  note_emulated_timings(dev);
  FmaPeak peak;
  if (dev.is_cpu()) {
    peak = measure_fma_peak();
    std::printf("float32 multiply-add peak, measured: %.1f GFLOP/s (%d threads, %s)\n", peak.gflops, peak.threads,
                peak.isa);
  }
  std::printf("copy bandwidth, measured: %.1f GB/s (a contiguous copy, bytes read + written)\n", copy);
  std::printf("%-30s %-20s %10s %10s %8s %10s%s\n", "op", "shape", "ms", "GB/s", "of copy", "GFLOP/s",
              dev.is_cpu() ? "   of peak" : "");
  int memory_bound = 0, at_goal = 0;
  for (const Row& r : rows) {
    const double gbps = r.bytes / r.ms / 1e6;
    std::printf("%-30s %-20s %10.3f %10.1f", r.name.c_str(), r.shape.c_str(), r.ms, gbps);
    if (r.flops > 0) {
      std::printf(" %8s %10.1f", "", r.flops / r.ms / 1e6);
    } else {  // memory bound: no FLOP count, the bytes decide
      std::printf(" %7.0f%%", 100 * gbps / copy);
      ++memory_bound;
      at_goal += gbps >= kCopyGoal * copy;
    }
    if (r.flops > 0 && peak.gflops > 0) std::printf(" %9.0f%%", 100 * r.flops / r.ms / 1e6 / peak.gflops);
    std::printf("\n");
  }
  std::printf(
      "memory-bound rows at >= %.0f %% of the copy bandwidth: %d of %d (the goal for a GPU: all, "
      "docs/gpu-fast-path.md)\n",
      100 * kCopyGoal, at_goal, memory_bound);
  std::printf("peak memory on %s: %.1f MiB\n", dev.label().c_str(), static_cast<double>(mem.peak_bytes) / (1 << 20));
  if (!options.json.empty()) write_json(options.json, dev, repeats, mem, peak.gflops, copy, rows);
  return 0;
}

}  // namespace lits::tools
