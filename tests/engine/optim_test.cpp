// The fused Adam step against PyTorch 0.4.1's update written out here in double precision, its closed-form
// first step (a move of exactly lr against the sign of the decayed gradient), skipped parameters without a
// gradient, bad arguments, and CPU/CUDA parity over a network-like set of tensors in one launch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <tuple>

#include "engine/ops.h"
#include "engine/optim.h"
#include "tests/support/errors.h"
#include "tests/support/op_cases.h"
#include "tests/support/tensors.h"

namespace lits::testing {
namespace {

Tensor leaf(const std::vector<double>& v, DType dtype = DType::kFloat64, Device device = Device::cpu()) {
  Tensor t = Tensor::from_values(v, {static_cast<int64_t>(v.size())}, dtype, device);
  t.set_requires_grad(true);
  return t;
}

// Gives p the gradient g through autograd: L = sum(p * g).
void set_grad(const Tensor& p, const std::vector<double>& g) {
  p.zero_grad();
  sum(mul(p, Tensor::from_values(g, p.shape(), p.dtype(), p.device())), {0}).backward();
}

TEST(Adam, FollowsTheReferenceUpdateStepByStep) {
  const AdamHyper h{0.01, 0.9, 0.999, 1e-8, 0.05};
  std::vector<double> p = {0.5, -1.25, 2.0, 0.0}, m(4, 0.0), v(4, 0.0);
  const Tensor tp = leaf(p);
  const Tensor tm = Tensor::zeros({4}, DType::kFloat64), tv = Tensor::zeros({4}, DType::kFloat64);
  const std::vector<std::vector<double>> grads = {
      {0.1, -0.2, 0.3, 0.0}, {-0.4, 0.5, 0.05, 1.0}, {0.2, 0.2, -0.7, -3.0}};
  for (int step = 1; step <= 3; ++step) {
    set_grad(tp, grads[static_cast<size_t>(step - 1)]);
    adam_step({tp}, {tm}, {tv}, step, h);
    // torch/optim/adam.py of PyTorch 0.4.1, in double.
    const double bc1 = 1 - std::pow(0.9, step), bc2 = 1 - std::pow(0.999, step);
    for (size_t i = 0; i < 4; ++i) {
      const double g = grads[static_cast<size_t>(step - 1)][i] + 0.05 * p[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      p[i] -= 0.01 * std::sqrt(bc2) / bc1 * m[i] / (std::sqrt(v[i]) + 1e-8);
    }
    const std::vector<double> got = tp.to_vector(), gm = tm.to_vector(), gv = tv.to_vector();
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(got[i], p[i], 1e-15) << "step " << step << " element " << i;
      EXPECT_NEAR(gm[i], m[i], 1e-15);
      EXPECT_NEAR(gv[i], v[i], 1e-15);
    }
  }
}

TEST(Adam, FirstStepMovesEachWeightByTheLearningRate) {
  const Tensor p = leaf({1.0, -2.0, 3.0}, DType::kFloat32);
  set_grad(p, {0.5, 0.25, -4.0});
  const Tensor m = Tensor::zeros({3}), v = Tensor::zeros({3});
  adam_step({p}, {m}, {v}, 1, AdamHyper{0.1, 0.9, 0.999, 1e-12, 0.0});
  const std::vector<double> got = p.to_vector();
  EXPECT_NEAR(got[0], 0.9, 1e-6);
  EXPECT_NEAR(got[1], -2.1, 1e-6);
  EXPECT_NEAR(got[2], 3.1, 1e-6);
}

TEST(Adam, SkipsParametersWithoutAGradient) {
  const Tensor a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  set_grad(a, {1.0, 1.0});
  const Tensor ma = Tensor::zeros({2}, DType::kFloat64), va = Tensor::zeros({2}, DType::kFloat64);
  const Tensor mb = Tensor::full({2}, 0.5, DType::kFloat64), vb = Tensor::full({2}, 0.5, DType::kFloat64);
  adam_step({a, b}, {ma, mb}, {va, vb}, 1, AdamHyper{0.1, 0.9, 0.999, 1e-8, 0.1});
  EXPECT_NE(a.to_vector()[0], 1.0);
  EXPECT_EQ(b.to_vector(), (std::vector<double>{3.0, 4.0}));  // no decay either
  EXPECT_EQ(mb.to_vector(), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(vb.to_vector(), (std::vector<double>{0.5, 0.5}));
}

TEST(Adam, RejectsBadArguments) {
  const Tensor p = leaf({1.0, 2.0});
  set_grad(p, {1.0, 1.0});
  const Tensor m = Tensor::zeros({2}, DType::kFloat64), v = Tensor::zeros({2}, DType::kFloat64);
  expect_contains(error_of([&] { adam_step({p}, {m}, {}, 1, AdamHyper{}); }),
                  {"adam_step", "1 parameters", "0 second"});
  expect_contains(error_of([&] { adam_step({p}, {m}, {v}, 0, AdamHyper{}); }), {"step 0"});
  expect_contains(error_of([&] { adam_step({p}, {m}, {v}, 1, AdamHyper{0.1, 1.0, 0.999, 1e-8, 0}); }), {"betas (1"});
  const Tensor wrong = Tensor::zeros({3}, DType::kFloat64);
  expect_contains(error_of([&] { adam_step({p}, {wrong}, {v}, 1, AdamHyper{}); }), {"moment float64[3]"});
}

LITS_PARITY_TEST(adam_step, network_of_tensors) {
  // Sizes like a UNet's: many small biases and a few large kernels, all in one launch; three steps.
  const std::vector<int64_t> sizes = {40, 7200, 40, 1, 14400, 80, 100003, 3};
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    std::vector<Tensor> p[2], m[2], v[2], g;
    for (size_t k = 0; k < sizes.size(); ++k) {
      const uint64_t seed = 10 * k;
      const Tensor p0 = randn({sizes[k]}, seed + 1, dt, false), m0 = randn({sizes[k]}, seed + 2, dt, false);
      const Tensor r = randn({sizes[k]}, seed + 3, dt, false), v0 = mul(r, r);
      g.push_back(randn({sizes[k]}, seed + 4, dt, false));
      const Device devices[2] = {Device::cpu(), Device::cuda(0)};
      for (int d = 0; d < 2; ++d) {
        Tensor pd = p0.to(devices[d]).clone();
        pd.set_requires_grad(true);
        p[d].push_back(pd);
        m[d].push_back(m0.to(devices[d]).clone());
        v[d].push_back(v0.to(devices[d]).clone());
      }
    }
    for (int step = 1; step <= 3; ++step) {
      for (int d = 0; d < 2; ++d) {
        for (size_t k = 0; k < sizes.size(); ++k) {
          p[d][k].zero_grad();
          sum(mul(p[d][k], g[k].to(p[d][k].device())), {0}).backward();  // gradient = g[k]
        }
        adam_step(p[d], m[d], v[d], step, AdamHyper{1e-3, 0.9, 0.999, 1e-8, 1e-4});
      }
    }
    for (size_t k = 0; k < sizes.size(); ++k) {
      for (const auto& [what, c, gpu] : {std::tuple{"param", p[0][k], p[1][k]}, std::tuple{"m", m[0][k], m[1][k]},
                                         std::tuple{"v", v[0][k], v[1][k]}}) {
        const auto res = compare_tensors(std::string("adam ") + what + " " + std::to_string(k) + " " + dtype_name(dt),
                                         c.detach(), gpu.detach(), 1e-5, 1e-7);
        EXPECT_TRUE(res.ok) << res.report;
        std::printf("[ parity   ] %s\n", res.report.c_str());
      }
    }
  }
}

}  // namespace
}  // namespace lits::testing
