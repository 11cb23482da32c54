// `lits demo` until the LiTS pipeline exists: trains a two-hidden-layer network with the engine's
// autograd on a synthetic task with the shape of the real one (a "lesion" disc inside a square
// "image": classify each point as inside or outside) and reports accuracy, lesion Dice and
// throughput. Exit status 1 when the network fails to learn (validation accuracy < 0.9).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/autograd.h"
#include "engine/cuda_context.h"
#include "engine/ops.h"
#include "tools/commands.h"

namespace lits::tools {
namespace {

struct Points {
  Tensor x;       // [N, 2]
  Tensor onehot;  // [N, 2]
  std::vector<int> label;
};

// Points uniform in [-1, 1]^2; label 1 inside the disc of radius 0.55 around (0.15, -0.1).
Points make_points(int64_t n, Generator& gen, Device device) {
  const Tensor xy = uniform({n, 2}, -1.0, 1.0, gen, DType::kFloat32);
  const std::vector<double> v = xy.to_vector();
  Points p;
  std::vector<double> hot(2 * n);
  for (int64_t i = 0; i < n; ++i) {
    const double dx = v[2 * i] - 0.15, dy = v[2 * i + 1] + 0.1;
    const int inside = dx * dx + dy * dy < 0.55 * 0.55 ? 1 : 0;
    p.label.push_back(inside);
    hot[2 * i + inside] = 1.0;
  }
  p.x = xy.to(device);
  p.onehot = Tensor::from_values(hot, {n, 2}, DType::kFloat32, device);
  return p;
}

struct Layer {
  Tensor w, b, vw, vb;  // weights, bias, momentum buffers
};

Layer make_layer(int64_t in, int64_t out, Generator& gen, Device device) {
  Layer l;
  l.w = normal({out, in}, 0.0, std::sqrt(2.0 / static_cast<double>(in)), gen, DType::kFloat32, device);
  l.b = Tensor::zeros({out}, DType::kFloat32, device);
  l.w.set_requires_grad(true);
  l.b.set_requires_grad(true);
  l.vw = Tensor::zeros(l.w.shape(), DType::kFloat32, device);
  l.vb = Tensor::zeros(l.b.shape(), DType::kFloat32, device);
  return l;
}

Tensor forward(std::vector<Layer>& net, const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < net.size(); ++i) {
    h = linear(h, net[i].w, net[i].b);
    if (i + 1 < net.size()) h = leaky_relu(h, 0.05);
  }
  return softmax(h);
}

// Accuracy and Dice of class 1 ("lesion") of the arg-max prediction.
void score(std::vector<Layer>& net, const Points& data, double* accuracy, double* dice) {
  NoGradGuard no_grad;
  const std::vector<double> p = forward(net, data.x).to_vector();
  int64_t correct = 0, tp = 0, pred1 = 0, true1 = 0;
  for (size_t i = 0; i < data.label.size(); ++i) {
    const int pred = p[2 * i + 1] > p[2 * i] ? 1 : 0;
    correct += pred == data.label[i];
    tp += pred == 1 && data.label[i] == 1;
    pred1 += pred;
    true1 += data.label[i];
  }
  *accuracy = static_cast<double>(correct) / static_cast<double>(data.label.size());
  *dice = pred1 + true1 > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(pred1 + true1) : 1.0;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const Device device = parse_device(options.device);
  std::printf(
      "lits demo: the LiTS pipeline (synth -> convert -> train -> segment -> submit -> evaluate) is not\n"
      "built yet, so this runs the most end-to-end job that exists: the engine training a small network\n"
      "(2 -> 32 -> 32 -> 2, LeakyReLU 0.05, softmax, cross-entropy, SGD with momentum) on a synthetic\n"
      "'lesion disc' task, on %s.\n\n",
      device.str().c_str());
  Generator gen(options.seed);
  const Points train = make_points(4096, gen, device);
  const Points val = make_points(2048, gen, device);
  std::vector<Layer> net;
  net.push_back(make_layer(2, 32, gen, device));
  net.push_back(make_layer(32, 32, gen, device));
  net.push_back(make_layer(32, 2, gen, device));

  const int steps = options.quick ? 400 : 1500;
  const int64_t batch = 256;
  const double lr = 0.05, momentum = 0.9;
  const Tensor eps = Tensor::full({}, 1e-7, DType::kFloat32, device);
  const auto start = std::chrono::steady_clock::now();
  for (int step = 1; step <= steps; ++step) {
    const int64_t first = ((step - 1) * batch) % 4096;
    const Tensor xb = narrow(train.x, 0, first, batch), yb = narrow(train.onehot, 0, first, batch);
    const Tensor p = forward(net, xb);
    // The epsilon keeps log finite once the network is confident (p can round to 0 in float32).
    const Tensor loss = scale(mean(sum(mul(yb, log(add(p, eps))), {1})), -1.0);
    LITS_CHECK(std::isfinite(loss.item()), "demo: loss became " << loss.item() << " at step " << step);
    for (Layer& l : net) {
      l.w.zero_grad();
      l.b.zero_grad();
    }
    loss.backward();
    {
      NoGradGuard no_grad;
      for (Layer& l : net) {
        l.vw = add(scale(l.vw, momentum), l.w.grad());
        l.vb = add(scale(l.vb, momentum), l.b.grad());
        l.w.add_(l.vw, -lr);
        l.b.add_(l.vb, -lr);
      }
    }
    if (step % (steps / 5) == 0 || step == 1) {
      double acc, dice;
      score(net, val, &acc, &dice);
      std::printf("  step %4d/%d  loss %.4f  validation accuracy %.3f  lesion Dice %.3f\n", step, steps, loss.item(),
                  acc, dice);
      std::fflush(stdout);
    }
  }
  cuda::synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double acc, dice;
  score(net, val, &acc, &dice);
  std::printf(
      "\nresult: validation accuracy %.3f, lesion Dice %.3f; %d steps of batch %lld in %.2f s (%.0f samples/s "
      "on %s)\n",
      acc, dice, steps, static_cast<long long>(batch), seconds, steps * batch / seconds, device.str().c_str());
  if (acc < 0.9) {
    std::printf("FAILED: the network did not learn the task (accuracy < 0.90)\n");
    return 1;
  }
  return 0;
}

}  // namespace lits::tools
