// Parity of the emulated GroupNorm and BatchNorm kernels (one block per statistics set, shared-
// memory trees) with their CPU twins, over sets shorter than a block and several block strides.
#include "kernels/norm.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

template <typename T>
class EmuNorm : public ::testing::Test {};
TYPED_TEST_SUITE(EmuNorm, Types);

struct NormShape {
  int64_t N, C, HW, G;
};
// Statistics sets of 2 * 3, 4 * 37, 1 * 256, 2 * 257 and 3 * 300 elements; and empty batches.
const NormShape kShapes[] = {{2, 4, 3, 2},   {1, 8, 37, 2}, {3, 2, 256, 2}, {2, 4, 257, 2},
                             {2, 6, 300, 2}, {0, 4, 5, 2},  {2, 4, 0, 4}};

std::string shape_text(const NormShape& s) {
  return "N " + std::to_string(s.N) + " C " + std::to_string(s.C) + " HW " + std::to_string(s.HW) + " G " +
         std::to_string(s.G);
}

TYPED_TEST(EmuNorm, GroupNormForwardAndBackward) {
  using T = TypeParam;
  for (const NormShape& s : kShapes) {
    const size_t n = static_cast<size_t>(s.N * s.C * s.HW), c = static_cast<size_t>(s.C),
                 ng = static_cast<size_t>(s.N * s.G);
    const auto x = uniform<T>(n, 50, -3.0, 5.0), g = uniform<T>(n, 51), gamma = uniform<T>(c, 52),
               beta = uniform<T>(c, 53);
    std::vector<T> y(n), mean(ng), rstd(ng), dx(n), dgamma(c), dbeta(c);
    Device<T> dX(x), dG(g), dGamma(gamma), dBeta(beta), dY(n), dMean(ng), dRstd(ng), dDx(n), dDgamma(c), dDbeta(c);
    const std::string what = shape_text(s);
    kernels::group_norm_forward_cpu(x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(), s.N, s.C,
                                    s.HW, s.G, 1e-5);
    expect_ok(kernels::group_norm_forward_cuda(dX.get(), dGamma.get(), dBeta.get(), dY.get(), dMean.get(), dRstd.get(),
                                               s.N, s.C, s.HW, s.G, 1e-5, nullptr));
    expect_close(y, dY.host(), "group_norm y " + what);
    expect_close(mean, dMean.host(), "group_norm mean " + what);
    expect_close(rstd, dRstd.host(), "group_norm rstd " + what);
    kernels::group_norm_backward_cpu(x.data(), g.data(), gamma.data(), mean.data(), rstd.data(), dx.data(),
                                     dgamma.data(), dbeta.data(), s.N, s.C, s.HW, s.G);
    expect_ok(kernels::group_norm_backward_cuda(dX.get(), dG.get(), dGamma.get(), dMean.get(), dRstd.get(), dDx.get(),
                                                dDgamma.get(), dDbeta.get(), s.N, s.C, s.HW, s.G, nullptr));
    expect_close(dx, dDx.host(), "group_norm dx " + what);
    expect_close(dgamma, dDgamma.host(), "group_norm dgamma " + what);
    expect_close(dbeta, dDbeta.host(), "group_norm dbeta " + what);
  }
}

TYPED_TEST(EmuNorm, BatchNormTrainingAndEvaluation) {
  using T = TypeParam;
  for (const NormShape& s : kShapes)
    for (bool training : {true, false}) {
      const size_t n = static_cast<size_t>(s.N * s.C * s.HW), c = static_cast<size_t>(s.C);
      const auto x = uniform<T>(n, 60, -3.0, 5.0), g = uniform<T>(n, 61), gamma = uniform<T>(c, 62),
                 beta = uniform<T>(c, 63), rmean = uniform<T>(c, 64), rvar = uniform<T>(c, 65, 0.5, 2.0);
      std::vector<T> y(n), bmean(c), bvar(c), rstd(c), dx(n), dgamma(c), dbeta(c);
      Device<T> dX(x), dG(g), dGamma(gamma), dBeta(beta), dRmean(rmean), dRvar(rvar), dY(n), dBmean(c), dBvar(c),
          dRstd(c), dDx(n), dDgamma(c), dDbeta(c);
      const std::string what = shape_text(s) + (training ? " training" : " evaluation");
      kernels::batch_norm_forward_cpu(x.data(), gamma.data(), beta.data(), y.data(), training, rmean.data(),
                                      rvar.data(), bmean.data(), bvar.data(), rstd.data(), s.N, s.C, s.HW, 1e-5);
      expect_ok(kernels::batch_norm_forward_cuda(dX.get(), dGamma.get(), dBeta.get(), dY.get(), training, dRmean.get(),
                                                 dRvar.get(), dBmean.get(), dBvar.get(), dRstd.get(), s.N, s.C, s.HW,
                                                 1e-5, nullptr));
      expect_close(y, dY.host(), "batch_norm y " + what);
      expect_close(rstd, dRstd.host(), "batch_norm rstd " + what);
      if (training) {
        expect_close(bmean, dBmean.host(), "batch_norm mean " + what);
        expect_close(bvar, dBvar.host(), "batch_norm var " + what);
      }
      const std::vector<T>& used_mean = training ? bmean : rmean;
      Device<T> dUsed(used_mean);
      kernels::batch_norm_backward_cpu(x.data(), g.data(), gamma.data(), used_mean.data(), rstd.data(), dx.data(),
                                       dgamma.data(), dbeta.data(), training, s.N, s.C, s.HW);
      expect_ok(kernels::batch_norm_backward_cuda(dX.get(), dG.get(), dGamma.get(), dUsed.get(), dRstd.get(), dDx.get(),
                                                  dDgamma.get(), dDbeta.get(), training, s.N, s.C, s.HW, nullptr));
      expect_close(dx, dDx.host(), "batch_norm dx " + what);
      expect_close(dgamma, dDgamma.host(), "batch_norm dgamma " + what);
      expect_close(dbeta, dDbeta.host(), "batch_norm dbeta " + what);
    }
}

}  // namespace
}  // namespace lits::emu_test
