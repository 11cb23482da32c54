// Parity of the emulated elementwise, copy, dropout and Adam kernels with their CPU twins.
#include <limits>

#include "kernels/adam.h"
#include "kernels/copy.h"
#include "kernels/dropout.h"
#include "kernels/elementwise.h"
#include "tests/cuda_emu/parity.h"

namespace lits::emu_test {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

template <typename T>
class EmuElementwise : public ::testing::Test {};
TYPED_TEST_SUITE(EmuElementwise, Types);

const UnaryOp kUnary[] = {UnaryOp::kRelu, UnaryOp::kLeakyRelu, UnaryOp::kSigmoid,
                          UnaryOp::kExp,  UnaryOp::kLog,       UnaryOp::kScale};

TYPED_TEST(EmuElementwise, UnaryForwardAndBackward) {
  using T = TypeParam;
  for (int64_t n : kSizes)
    for (UnaryOp op : kUnary) {
      const std::string what = size_text(n) + " op " + std::to_string(static_cast<int>(op));
      // Positive inputs for log; the saved value s is the input or the output, as the op keeps it.
      const auto x = uniform<T>(static_cast<size_t>(n), 1, op == UnaryOp::kLog ? 0.1 : -2.0, 2.0);
      const auto g = uniform<T>(static_cast<size_t>(n), 2);
      const T p = T(0.2);
      std::vector<T> y(x.size()), gx(x.size());
      kernels::unary_forward_cpu(op, x.data(), y.data(), n, p);
      Device<T> dx(x), dy(x.size()), dg(g), dgx(x.size());
      expect_ok(kernels::unary_forward_cuda(op, dx.get(), dy.get(), n, p, nullptr));
      expect_equal(y, dy.host(), "unary_forward " + what);
      kernels::unary_backward_cpu(op, g.data(), y.data(), gx.data(), n, p);
      expect_ok(kernels::unary_backward_cuda(op, dg.get(), dy.get(), dgx.get(), n, p, nullptr));
      expect_equal(gx, dgx.host(), "unary_backward " + what);
    }
}

TYPED_TEST(EmuElementwise, BinaryDenseAndBroadcast) {
  using T = TypeParam;
  for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv})
    for (int64_t n : kSizes) {
      // Dense: both operands [n]. Broadcast: a [3, n] with b [1, n], strides 0 along dim 0.
      kernels::BroadcastIndex dense{1, {n}, {1}, {1}};
      kernels::BroadcastIndex bcast{2, {3, n}, {n, 1}, {0, 1}};
      for (const auto& ix : {dense, bcast}) {
        const size_t na = static_cast<size_t>(ix.shape[0] * (ix.ndim == 2 ? n : 1));
        const auto a = uniform<T>(na, 3), b = uniform<T>(static_cast<size_t>(n), 4, 0.5, 2.0);
        std::vector<T> out(na);
        kernels::binary_cpu(op, a.data(), b.data(), out.data(), ix);
        Device<T> da(a), db(b), dout(na);
        expect_ok(kernels::binary_cuda(op, da.get(), db.get(), dout.get(), ix, nullptr));
        expect_equal(out, dout.host(), "binary " + size_text(n) + " ndim " + std::to_string(ix.ndim));
      }
    }
}

TYPED_TEST(EmuElementwise, FillAccumulateAndRandom) {
  using T = TypeParam;
  for (int64_t n : kSizes) {
    const size_t un = static_cast<size_t>(n);
    Device<T> dy(un);
    expect_ok(kernels::fill_cuda(dy.get(), n, T(1.5), nullptr));
    expect_equal(std::vector<T>(un, T(1.5)), dy.host(), "fill " + size_text(n));
    const auto x = uniform<T>(un, 5);
    auto y = uniform<T>(un, 6);
    Device<T> dacc(y), dx(x);
    kernels::accumulate_cpu(y.data(), x.data(), n, T(0.75));
    expect_ok(kernels::accumulate_cuda(dacc.get(), dx.get(), n, T(0.75), nullptr));
    expect_equal(y, dacc.host(), "accumulate " + size_text(n));
    // Counter-based draws: the same bits as the CPU at any offset.
    std::vector<T> u(un), z(un);
    kernels::uniform_cpu(u.data(), n, T(-1), T(3), 42, 1000);
    expect_ok(kernels::uniform_cuda(dy.get(), n, T(-1), T(3), 42, 1000, nullptr));
    expect_equal(u, dy.host(), "uniform " + size_text(n));
    kernels::normal_cpu(z.data(), n, T(0.5), T(2), 43, 7);
    expect_ok(kernels::normal_cuda(dy.get(), n, T(0.5), T(2), 43, 7, nullptr));
    expect_equal(z, dy.host(), "normal " + size_text(n));
  }
}

TYPED_TEST(EmuElementwise, CopyStridedDenseAndCast) {
  using T = TypeParam;
  using Other = std::conditional_t<std::is_same_v<T, float>, double, float>;
  for (int64_t n : kSizes) {
    // A [n, 3] -> [3, n] transpose (strided kernel) and dense copies with and without a cast.
    kernels::CopyIndex transpose{2, {3, n}, {1, 3}, {n, 1}};
    kernels::CopyIndex dense{1, {3 * n}, {1}, {1}};
    const auto src = uniform<T>(static_cast<size_t>(3 * n), 8);
    Device<T> dsrc(src), ddst(src.size());
    Device<Other> dcast(src.size());
    for (const auto& ix : {transpose, dense}) {
      std::vector<T> dst(src.size());
      kernels::copy_cpu(src.data(), dst.data(), ix);
      expect_ok(kernels::copy_cuda(dsrc.get(), ddst.get(), ix, nullptr));
      expect_equal(dst, ddst.host(), "copy " + size_text(n) + " ndim " + std::to_string(ix.ndim));
      std::vector<Other> cast(src.size());
      kernels::copy_cpu(src.data(), cast.data(), ix);
      expect_ok(kernels::copy_cuda(dsrc.get(), dcast.get(), ix, nullptr));
      expect_equal(cast, dcast.host(), "copy with cast " + size_text(n) + " ndim " + std::to_string(ix.ndim));
    }
  }
}

TYPED_TEST(EmuElementwise, DropoutMaskAndApply) {
  using T = TypeParam;
  for (int64_t channels : {int64_t(0), int64_t(3), int64_t(300)})
    for (int64_t S : {int64_t(1), int64_t(37), int64_t(256)}) {
      const size_t nc = static_cast<size_t>(channels), n = static_cast<size_t>(channels * S);
      const T keep = static_cast<T>(1.0 / 0.7);
      std::vector<T> mask(nc), y(n);
      kernels::dropout_mask_cpu(mask.data(), channels, 0.3, keep, 9, 100);
      Device<T> dmask(nc), dy(n);
      expect_ok(kernels::dropout_mask_cuda(dmask.get(), channels, 0.3, keep, 9, 100, nullptr));
      expect_equal(mask, dmask.host(), "dropout_mask channels " + std::to_string(channels));
      const auto x = uniform<T>(n, 10);
      Device<T> dx(x);
      kernels::dropout_apply_cpu(x.data(), mask.data(), y.data(), channels, S);
      expect_ok(kernels::dropout_apply_cuda(dx.get(), dmask.get(), dy.get(), channels, S, nullptr));
      expect_equal(y, dy.host(), "dropout_apply channels " + std::to_string(channels) + " S " + std::to_string(S));
    }
}

// One launch for every tensor: a 2-D grid whose y-rows are the slots, of very different sizes.
TYPED_TEST(EmuElementwise, AdamStepOverSlotsOfEverySize) {
  using T = TypeParam;
  const std::vector<int64_t> sizes = {1, 255, 0, 3 * 256 + 19, 256, 37};
  const kernels::AdamScalars a{0.9, 0.999, 1e-8, 0.01, 0.003};
  std::vector<std::vector<T>> host[4];  // param, grad, m, v
  std::vector<std::unique_ptr<Device<T>>> dev[4];
  std::vector<kernels::AdamSlot<T>> cpu_slots, emu_slots;
  int64_t max_n = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const size_t n = static_cast<size_t>(sizes[k]);
    max_n = std::max(max_n, sizes[k]);
    for (int f = 0; f < 4; ++f) {
      host[f].push_back(uniform<T>(n, 20 + 4 * k + static_cast<size_t>(f), f == 3 ? 0.0 : -1.0, 1.0));
      dev[f].push_back(std::make_unique<Device<T>>(host[f].back()));
    }
    cpu_slots.push_back({host[0][k].data(), host[1][k].data(), host[2][k].data(), host[3][k].data(), sizes[k]});
    emu_slots.push_back({dev[0][k]->get(), dev[1][k]->get(), dev[2][k]->get(), dev[3][k]->get(), sizes[k]});
  }
  Device<kernels::AdamSlot<T>> dslots(emu_slots);
  Device<kernels::AdamDeviceScalars<T>> dscalars(std::vector{kernels::adam_device_scalars<T>(a)});
  // A non-finite guard (a NaN or infinite loss) leaves everything as it was.
  for (const T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity()}) {
    Device<T> guard(std::vector<T>{bad});
    expect_ok(kernels::adam_step_cuda(dslots.get(), static_cast<int64_t>(sizes.size()), max_n, dscalars.get(),
                                      guard.get(), nullptr));
    for (size_t k = 0; k < sizes.size(); ++k)
      for (int f : {0, 2, 3}) expect_equal(host[f][k], dev[f][k]->host(), "adam skipped, slot " + std::to_string(k));
  }
  kernels::adam_step_cpu(cpu_slots.data(), static_cast<int64_t>(sizes.size()), a);
  Device<T> finite(std::vector<T>{T(0.25)});
  expect_ok(kernels::adam_step_cuda(dslots.get(), static_cast<int64_t>(sizes.size()), max_n, dscalars.get(),
                                    finite.get(), nullptr));
  for (size_t k = 0; k < sizes.size(); ++k)
    for (int f : {0, 2, 3})
      expect_equal(host[f][k], dev[f][k]->host(), "adam slot " + std::to_string(k) + " field " + std::to_string(f));
  expect_ok(kernels::adam_step_cuda(dslots.get(), 0, 0, dscalars.get(), static_cast<const T*>(nullptr), nullptr));
}

}  // namespace
}  // namespace lits::emu_test
