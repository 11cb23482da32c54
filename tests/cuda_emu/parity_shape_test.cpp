// Parity of the emulated pooling, upsampling, softmax, squeeze-excitation and sum kernels with
// their CPU twins.
#include "kernels/pool.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "kernels/squeeze_excite.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

template <typename T>
class EmuShape : public ::testing::Test {};
TYPED_TEST_SUITE(EmuShape, Types);

TYPED_TEST(EmuShape, MaxPoolForwardAndBackward) {
  using T = TypeParam;
  // (planes, in_h, in_w, kernel, stride, padding): 2x2/2, overlapping 3x3/2 with padding, empty.
  const int64_t cases[][6] = {{3, 8, 10, 2, 2, 0}, {2, 17, 33, 3, 2, 1}, {5, 1, 1, 1, 1, 0}, {0, 4, 4, 2, 2, 0}};
  for (const auto& c : cases) {
    kernels::PoolGeometry g{c[0], c[1], c[2], 0, 0, c[3], c[4], c[5]};
    g.out_h = kernels::pool_output_size(g.in_h, g.kernel, g.stride, g.padding);
    g.out_w = kernels::pool_output_size(g.in_w, g.kernel, g.stride, g.padding);
    const size_t ni = static_cast<size_t>(g.planes * g.in_h * g.in_w),
                 no = static_cast<size_t>(g.planes * g.out_h * g.out_w);
    const auto x = uniform<T>(ni, 30), gy = uniform<T>(no, 31);
    std::vector<T> y(no), gx(ni);
    std::vector<int32_t> argmax(no);
    kernels::max_pool_forward_cpu(x.data(), y.data(), argmax.data(), g);
    Device<T> dx(x), dy(no), dgy(gy), dgx(ni);
    Device<int32_t> darg(no);
    expect_ok(kernels::max_pool_forward_cuda(dx.get(), dy.get(), darg.get(), g, nullptr));
    const std::string what =
        "planes " + std::to_string(g.planes) + " " + std::to_string(g.in_h) + "x" + std::to_string(g.in_w);
    expect_equal(y, dy.host(), "max_pool_forward " + what);
    expect_equal(argmax, darg.host(), "max_pool argmax " + what);
    kernels::max_pool_backward_cpu(gy.data(), argmax.data(), gx.data(), g);
    expect_ok(kernels::max_pool_backward_cuda(dgy.get(), darg.get(), dgx.get(), g, nullptr));
    expect_equal(gx, dgx.host(), "max_pool_backward " + what);
  }
}

TYPED_TEST(EmuShape, Upsample2xForwardAndBackward) {
  using T = TypeParam;
  for (const auto& c : std::vector<std::array<int64_t, 3>>{{2, 5, 7}, {1, 16, 16}, {3, 1, 45}, {0, 2, 2}}) {
    const int64_t planes = c[0], h = c[1], w = c[2];
    const size_t ni = static_cast<size_t>(planes * h * w), no = 4 * ni;
    const auto x = uniform<T>(ni, 32), gy = uniform<T>(no, 33);
    std::vector<T> y(no), gx(ni);
    Device<T> dx(x), dy(no), dgy(gy), dgx(ni);
    kernels::upsample2x_forward_cpu(x.data(), y.data(), planes, h, w);
    expect_ok(kernels::upsample2x_forward_cuda(dx.get(), dy.get(), planes, h, w, nullptr));
    expect_equal(y, dy.host(), "upsample2x_forward");
    kernels::upsample2x_backward_cpu(gy.data(), gx.data(), planes, h, w);
    expect_ok(kernels::upsample2x_backward_cuda(dgy.get(), dgx.get(), planes, h, w, nullptr));
    expect_equal(gx, dgx.host(), "upsample2x_backward");
  }
}

TYPED_TEST(EmuShape, ChannelSoftmaxForwardAndBackward) {
  using T = TypeParam;
  for (const auto& c : std::vector<std::array<int64_t, 3>>{{2, 3, 37}, {1, 2, 300}, {3, 5, 1}, {0, 3, 8}}) {
    const int64_t N = c[0], C = c[1], S = c[2];
    const size_t n = static_cast<size_t>(N * C * S);
    const auto x = uniform<T>(n, 34, -4.0, 4.0), g = uniform<T>(n, 35);
    std::vector<T> y(n), gx(n);
    Device<T> dx(x), dy(n), dg(g), dgx(n);
    kernels::softmax_forward_cpu(x.data(), y.data(), N, C, S);
    expect_ok(kernels::softmax_forward_cuda(dx.get(), dy.get(), N, C, S, nullptr));
    expect_close(y, dy.host(), "softmax_forward S " + std::to_string(S));
    kernels::softmax_backward_cpu(y.data(), g.data(), gx.data(), N, C, S);
    Device<T> dyc(y);
    expect_ok(kernels::softmax_backward_cuda(dyc.get(), dg.get(), dgx.get(), N, C, S, nullptr));
    expect_close(gx, dgx.host(), "softmax_backward S " + std::to_string(S));
  }
}

TYPED_TEST(EmuShape, SqueezeExcitePoolAndScale) {
  using T = TypeParam;
  for (int64_t planes : {int64_t(0), int64_t(1), int64_t(6)})
    for (int64_t S : kSizes) {
      const size_t n = static_cast<size_t>(planes * S), np = static_cast<size_t>(planes);
      const std::string what = "planes " + std::to_string(planes) + " " + size_text(S);
      const auto x = uniform<T>(n, 36), s = uniform<T>(np, 37), g = uniform<T>(n, 38), gp = uniform<T>(np, 39);
      Device<T> dx(x), ds(s), dg(g), dgp(gp), dy(np), dyfull(n), dgx(n), dgs(np);
      std::vector<T> y(np), yfull(n), gx(n), gs(np);
      kernels::global_avg_pool_forward_cpu(x.data(), y.data(), planes, S);
      expect_ok(kernels::global_avg_pool_forward_cuda(dx.get(), dy.get(), planes, S, nullptr));
      expect_close(y, dy.host(), "avg_pool_forward " + what);
      kernels::global_avg_pool_backward_cpu(gp.data(), gx.data(), planes, S);
      expect_ok(kernels::global_avg_pool_backward_cuda(dgp.get(), dgx.get(), planes, S, nullptr));
      expect_close(gx, dgx.host(), "avg_pool_backward " + what);
      kernels::channel_scale_forward_cpu(x.data(), s.data(), yfull.data(), planes, S);
      expect_ok(kernels::channel_scale_forward_cuda(dx.get(), ds.get(), dyfull.get(), planes, S, nullptr));
      expect_equal(yfull, dyfull.host(), "channel_scale_forward " + what);
      // Backward with both gradients (one block-per-plane pass), then gx only (the broadcast).
      kernels::channel_scale_backward_cpu(g.data(), x.data(), s.data(), gx.data(), gs.data(), planes, S);
      expect_ok(
          kernels::channel_scale_backward_cuda(dg.get(), dx.get(), ds.get(), dgx.get(), dgs.get(), planes, S, nullptr));
      expect_close(gx, dgx.host(), "channel_scale_backward gx " + what);
      expect_close(gs, dgs.host(), "channel_scale_backward gs " + what);
      Device<T> dgx_only(n);
      expect_ok(kernels::channel_scale_backward_cuda(dg.get(), dx.get(), ds.get(), dgx_only.get(),
                                                     static_cast<T*>(nullptr), planes, S, nullptr));
      expect_close(gx, dgx_only.host(), "channel_scale_backward gx only " + what);
    }
}

// Short reductions take one thread per output, long ones one block per output.
TYPED_TEST(EmuShape, SumOverAxes) {
  using T = TypeParam;
  const std::vector<std::pair<std::vector<int64_t>, std::vector<bool>>> cases = {
      {{4, 5, 6}, {false, true, false}},  // 5 summed: thread kernel
      {{3, 40, 7}, {true, true, false}},  // 120 summed: block kernel
      {{2, 1000}, {false, true}},         // several block strides
      {{300, 3}, {true, false}},          // 300 summed over a strided axis
      {{0, 70}, {false, true}},           // no output
      {{5, 0}, {false, true}},            // empty sums: zeros
      {{7, 3}, {true, true}}};            // everything into one value
  for (const auto& [shape, reduce] : cases) {
    kernels::ReduceIndex ix;
    ix.ndim = static_cast<int>(shape.size());
    int64_t n = 1, out = 1;
    for (int d = 0; d < ix.ndim; ++d) {
      ix.shape[d] = shape[static_cast<size_t>(d)];
      ix.reduce[d] = reduce[static_cast<size_t>(d)];
      n *= ix.shape[d];
      out *= ix.reduce[d] ? 1 : ix.shape[d];
    }
    const auto x = uniform<T>(static_cast<size_t>(n), 40);
    std::vector<T> y(static_cast<size_t>(out));
    kernels::sum_cpu(x.data(), y.data(), ix, 0.5);
    Device<T> dx(x), dy(y.size());
    expect_ok(kernels::sum_cuda(dx.get(), dy.get(), ix, 0.5, nullptr));
    expect_close(y, dy.host(), "sum of " + std::to_string(n) + " into " + std::to_string(out));
  }
}

}  // namespace
}  // namespace lits::emu_test
