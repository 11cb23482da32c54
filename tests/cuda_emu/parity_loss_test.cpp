// Parity of the emulated loss kernels with their CPU twins: the multiclass losses (partial sums on
// a 2-D grid of chunks and samples, the in-order reduction, the one-thread finalize, the backward),
// the binary and focal losses, and the target check with its integer atomics.
#include "kernels/loss.h"
#include "kernels/loss_binary.h"
#include "kernels/loss_common.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

template <typename T>
class EmuLoss : public ::testing::Test {};
TYPED_TEST_SUITE(EmuLoss, Types);

using kernels::LossKind;

kernels::LossParams loss_params(LossKind kind, int64_t B, int64_t K, int64_t N) {
  kernels::LossParams p;
  p.kind = kind;
  p.B = B, p.K = K, p.N = N;
  p.alpha = 3.0;
  for (int64_t c = 0; c < K; ++c) {
    p.class_weight[c] = 0.5 + 0.25 * static_cast<double>(c);
    p.dice_weight[c] = 1.0 + 0.5 * static_cast<double>(c);
  }
  p.want_ce = kind != LossKind::kDice;
  p.want_dice = kind != LossKind::kCrossEntropy;
  p.dice_softmax = kind == LossKind::kDiceCe;
  p.dice_first = 1;
  p.dice_num_eps = 1e-5;
  p.dice_den_eps = 1e-5;
  return p;
}

std::vector<int64_t> targets(size_t n, int64_t classes, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<int64_t> t(n);
  for (int64_t& v : t) v = static_cast<int64_t>(g() % static_cast<uint64_t>(classes));
  return t;
}

// Pixels per sample: tails, a whole chunk (16 blocks of 256), and a chunk plus a tail (2 chunks).
const int64_t kPixels[] = {1, 37, 256, 257, kernels::kLossCudaChunk, kernels::kLossCudaChunk + 300};

TYPED_TEST(EmuLoss, MulticlassForwardAndBackward) {
  using T = TypeParam;
  for (LossKind kind : {LossKind::kCrossEntropy, LossKind::kDice, LossKind::kCombined, LossKind::kDiceCe})
    for (int64_t N : kPixels)
      for (bool weighted : {true, false}) {
        const int64_t B = 2, K = 3;
        const kernels::LossParams p = loss_params(kind, B, K, N);
        const size_t nx = static_cast<size_t>(B * K * N), nt = static_cast<size_t>(B * N);
        const auto x = uniform<T>(nx, 70, 0.01, 1.0), w = uniform<T>(nt, 71, 0.0, 2.0);
        const auto t = targets(nt, K, 72);
        const std::vector<T> g = {T(0.7)};
        const size_t ns = static_cast<size_t>(kernels::loss_stats_size(B, K));
        std::vector<double> stats(ns);
        std::vector<T> loss(1), dx(nx);
        const T* wp = weighted ? w.data() : nullptr;
        kernels::loss_forward_cpu(p, x.data(), t.data(), wp, stats.data(), loss.data());
        kernels::loss_backward_cpu(p, x.data(), t.data(), wp, stats.data(), 0.7, dx.data());
        Device<T> dX(x), dW(w), dG(g), dLoss(1), dDx(nx);
        Device<int64_t> dT(t);
        Device<double> dStats(ns), dScratch(static_cast<size_t>(kernels::loss_forward_cuda_scratch(p)));
        const T* dwp = weighted ? dW.get() : nullptr;
        expect_ok(
            kernels::loss_forward_cuda(p, dX.get(), dT.get(), dwp, dStats.get(), dScratch.get(), dLoss.get(), nullptr));
        const std::string what =
            "kind " + std::to_string(static_cast<int>(kind)) + " " + size_text(N) + (weighted ? " weighted" : "");
        expect_close(loss, dLoss.host(), "loss " + what);
        expect_close(stats, dStats.host(), "loss stats " + what, 1e-12);
        expect_ok(kernels::loss_backward_cuda(p, dX.get(), dT.get(), dwp, dStats.get(), dG.get(), dDx.get(), nullptr));
        expect_close(dx, dDx.host(), "loss dx " + what);
      }
}

// Empty input is refused with a status on the device (the engine refuses it first on both).
TYPED_TEST(EmuLoss, MulticlassEmptyInputIsAStatus) {
  using T = TypeParam;
  const kernels::LossParams p = loss_params(LossKind::kCombined, 2, 3, 0);
  Device<double> stats(static_cast<size_t>(kernels::loss_stats_size(2, 3)));
  Device<T> loss(1);
  const kernels::Status s =
      kernels::loss_forward_cuda<T>(p, nullptr, nullptr, nullptr, stats.get(), nullptr, loss.get(), nullptr);
  EXPECT_NE(s.code, 0);
  EXPECT_NE(std::string(s.statement).find("empty input"), std::string::npos) << s.statement;
}

TYPED_TEST(EmuLoss, BinaryAndFocalForwardAndBackward) {
  using T = TypeParam;
  using kernels::BinaryFocalLoss;
  for (BinaryFocalLoss kind : {BinaryFocalLoss::kBinaryPwce, BinaryFocalLoss::kWeightedBinaryDice,
                               BinaryFocalLoss::kFocalPwce, BinaryFocalLoss::kFocalDice})
    for (int64_t K : {int64_t(1), int64_t(2), int64_t(3)})
      for (int64_t N : {int64_t(0), int64_t(1), int64_t(37), int64_t(257), kernels::kBinaryFocalChunk,
                        3 * kernels::kBinaryFocalChunk + 5}) {
        // The binary losses take one sigmoid channel and targets {0, 1}; the focal ones K >= 2 classes.
        const bool binary = kind == BinaryFocalLoss::kBinaryPwce || kind == BinaryFocalLoss::kWeightedBinaryDice;
        if (binary != (K == 1)) continue;
        const int64_t B = 2;
        const size_t np = static_cast<size_t>(B * K * N), nt = static_cast<size_t>(B * N);
        const auto prob = uniform<T>(np, 80, 0.001, 0.999), w = uniform<T>(nt, 81, 0.0, 2.0);
        const auto t = targets(nt, K == 1 ? 2 : K, 82);
        const std::vector<T> g = {T(1.3)};
        const size_t npart = static_cast<size_t>(B * std::max<int64_t>(1, kernels::binary_focal_chunks(N)) *
                                                 kernels::kBinaryFocalStats),
                     nstats = static_cast<size_t>(B * kernels::kBinaryFocalStats);
        Device<T> dP(prob), dW(w), dG(g), dLoss(1), dDp(np);
        Device<int64_t> dT(t);
        Device<double> dPart(npart), dStats(nstats);
        kernels::BinaryFocalArgs<T> a;
        a.p = prob.data(), a.target = t.data(), a.w = w.data(), a.B = B, a.K = K, a.N = N, a.alpha = 3.0;
        std::vector<double> part(npart), stats(nstats);
        std::vector<T> loss(1), dp(np);
        kernels::binary_focal_forward_cpu(kind, a, part.data(), stats.data(), loss.data());
        kernels::binary_focal_backward_cpu(kind, a, stats.data(), g.data(), dp.data());
        kernels::BinaryFocalArgs<T> da = a;
        da.p = dP.get(), da.target = dT.get(), da.w = dW.get();
        const std::string what =
            "kind " + std::to_string(static_cast<int>(kind)) + " K " + std::to_string(K) + " " + size_text(N);
        expect_ok(kernels::binary_focal_forward_cuda(kind, da, dPart.get(), dStats.get(), dLoss.get(), nullptr));
        expect_close(loss, dLoss.host(), "binary loss " + what);
        expect_close(stats, dStats.host(), "binary stats " + what, 1e-12);
        expect_ok(kernels::binary_focal_backward_cuda(kind, da, dStats.get(), dG.get(), dDp.get(), nullptr));
        expect_close(dp, dDp.host(), "binary dp " + what);
      }
}

TEST(EmuLossTargets, CountInvalidWithAtomics) {
  for (int64_t n : kSizes) {
    auto t = targets(static_cast<size_t>(n), 3, 90);
    // Bad values scattered so that many threads of many blocks add to the count at once.
    for (size_t i = 5; i < t.size(); i += 7) t[i] = i % 2 ? -1 : 3;
    int64_t first_cpu = -1, count_emu = -1, first_emu = -1;
    const int64_t count_cpu = kernels::count_invalid_targets_cpu(t.data(), n, 3, &first_cpu);
    Device<int64_t> dT(t);
    expect_ok(kernels::count_invalid_targets_cuda(dT.get(), n, 3, &count_emu, &first_emu, nullptr));
    EXPECT_EQ(count_cpu, count_emu) << size_text(n);
    if (count_cpu > 0) {
      EXPECT_EQ(first_cpu, first_emu) << size_text(n);
    }
  }
}

}  // namespace
}  // namespace lits::emu_test
