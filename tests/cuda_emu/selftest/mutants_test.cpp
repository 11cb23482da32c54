// The emulator must not go blind: each mutant of mutants.txt (a real kernel with one planted bug)
// must be caught by the mode that catches its kind of bug, and each control (the same kernel
// unmutated) must pass there. Fibers catch ordering bugs as wrong results in the orders listed
// and diagnose barrier and warp misuse; ASan catches out-of-bounds accesses; TSan (threads mode)
// catches races the cooperative fibers cannot show. Every run prints its verdicts, one per line.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cuda_emu/control.h"
#include "kernels/loss_common.h"
#include "kernels/norm.h"
#include "kernels/reduce.h"
#include "kernels/squeeze_excite.h"
#include "mutant_list.h"

namespace lits_emu_mutants {
#define LITS_DECLARE(name) std::vector<double> name(const std::vector<double>& x, const std::vector<int64_t>& shape);
LITS_EMU_MUTANTS(LITS_DECLARE)
#undef LITS_DECLARE
}  // namespace lits_emu_mutants

namespace lits::emu_test {
namespace {

using Entry = std::vector<double> (*)(const std::vector<double>&, const std::vector<int64_t>&);
enum class Driver { kSum, kNorm, kSqueeze, kCount, kWarp };
// kRight: the CPU twin's result. kWrong: a different result. kDiagnosed: the emulator stops the
// program with `diagnosis`. kAny: not caught by this mode (the verdict is printed, not checked).
enum class Fiber { kRight, kWrong, kDiagnosed, kAny };

struct Expectation {
  const char* name;
  Driver driver;
  Fiber orders[3];  // forward, reverse, random
  const char* diagnosis;
  bool asan;  // ASan or UBSan reports it (in that build this replaces the fiber expectation)
  bool tsan;  // TSan reports a race in threads mode
};

constexpr Fiber R = Fiber::kRight, W = Fiber::kWrong, D = Fiber::kDiagnosed, A = Fiber::kAny;
const Expectation kTable[] = {
    {"control_reduce", Driver::kSum, {R, R, R}, "", false, false},
    {"control_norm", Driver::kNorm, {R, R, R}, "", false, false},
    {"control_squeeze", Driver::kSqueeze, {R, R, R}, "", false, false},
    {"control_count", Driver::kCount, {R, R, R}, "", false, false},
    {"control_warp", Driver::kWarp, {R, R, R}, "", false, false},
    // In reverse order the higher threads finish each level before the lower ones read it.
    {"no_tree_barrier", Driver::kSum, {W, A, W}, "", false, true},
    // In reverse order thread 0, the only writer of buf[0], reads it last.
    {"no_trailing_barrier", Driver::kNorm, {W, A, W}, "", false, true},
    {"off_by_one", Driver::kNorm, {W, W, W}, "", true, false},
    {"early_return", Driver::kSqueeze, {D, D, D}, "__syncthreads reached by 100 of 256 threads", false, false},
    {"half_shared", Driver::kSum, {D, D, D}, "past the end of this __shared__ variable", true, false},
    // Every thread stores the same right value; every update lands without preemption.
    {"same_value_race", Driver::kSum, {A, A, A}, "", false, true},
    {"plain_add", Driver::kCount, {A, A, A}, "", false, true},
    {"warp_no_barrier", Driver::kWarp, {W, A, W}, "", false, true},
    {"warp_offset_32", Driver::kWarp, {W, W, W}, "", false, false},
    // Lane 16 calls with a mask that leaves it out, or a lane of the mask reads lane 16 first.
    {"warp_bad_mask", Driver::kWarp, {D, D, D}, "__shfl_down_sync.* mask 0x0000ffff", false, false},
};

Entry entry(const std::string& name) {
#define LITS_ENTRY(n) \
  if (name == #n) return &lits_emu_mutants::n;
  LITS_EMU_MUTANTS(LITS_ENTRY)
#undef LITS_ENTRY
  return nullptr;
}

struct Case {
  std::vector<double> x;
  std::vector<int64_t> shape;
  std::vector<double> expected;
};

Case make_case(Driver d) {
  std::mt19937_64 g(11);
  std::uniform_real_distribution<double> u(-1.0, 2.0);
  Case c;
  auto fill = [&](size_t n) {
    c.x.resize(n);
    for (double& v : c.x) v = u(g);
  };
  if (d == Driver::kSum || d == Driver::kWarp) {  // 3 rows of 1000: block reductions of 4 strides
    c.shape = {3, 1000};
    fill(3000);
    c.expected.assign(3, 0.0);
    kernels::ReduceIndex ix;
    ix.ndim = 2, ix.shape[0] = 3, ix.shape[1] = 1000, ix.reduce[1] = true;
    kernels::sum_cpu(c.x.data(), c.expected.data(), ix, 1.0);
  } else if (d == Driver::kNorm) {  // groups of 200 elements: a tail inside one block stride
    c.shape = {2, 4, 100, 2};
    fill(800);
    std::vector<double> gamma(4, 1.0), beta(4, 0.0), y(800), mean(4), rstd(4);
    kernels::group_norm_forward_cpu(c.x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(), 2, 4,
                                    100, 2, 1e-5);
    c.expected = y;
    c.expected.insert(c.expected.end(), mean.begin(), mean.end());
    c.expected.insert(c.expected.end(), rstd.begin(), rstd.end());
  } else if (d == Driver::kSqueeze) {  // planes of 100 pixels: 156 threads of each block have none
    c.shape = {4, 100};
    fill(400);
    c.expected.assign(4, 0.0);
    kernels::global_avg_pool_forward_cpu(c.x.data(), c.expected.data(), 4, 100);
  } else {  // 2000 targets of 3 classes, every fifth invalid
    c.shape = {3};
    c.x.resize(2000);
    std::vector<int64_t> t(2000);
    for (size_t i = 0; i < t.size(); ++i)
      t[i] = i % 5 == 4 ? 3 + static_cast<int64_t>(i % 2) : static_cast<int64_t>(i % 3);
    for (size_t i = 0; i < t.size(); ++i) c.x[i] = static_cast<double>(t[i]);
    int64_t first = -1;
    const int64_t count = kernels::count_invalid_targets_cpu(t.data(), 2000, 3, &first);
    c.expected = {static_cast<double>(count), static_cast<double>(first)};
  }
  return c;
}

bool matches(const std::vector<double>& want, const std::vector<double>& got) {
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(want[i] - got[i]) <= 1e-9 * std::max(1.0, std::fabs(want[i])))) return false;
  return true;
}

void report(const char* name, const std::string& verdict) {
  std::printf("cuda-emu mutant %-20s [%s]: %s\n", name, lits_emu::settings_text().c_str(), verdict.c_str());
  std::fflush(stdout);
}

class EmuMutants : public ::testing::TestWithParam<Expectation> {};

TEST_P(EmuMutants, CaughtByTheModeThatCatchesIt) {
  const Expectation& e = GetParam();
  const Entry run = entry(e.name);
  ASSERT_NE(run, nullptr) << e.name << " is in the table but not in mutants.txt";
  const Case c = make_case(e.driver);
  const bool control = std::string(e.name).rfind("control_", 0) == 0;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#if defined(__SANITIZE_THREAD__)
  if (lits_emu::settings().mode == lits_emu::Mode::kThreads && e.tsan) {
    EXPECT_EXIT(run(c.x, c.shape), ::testing::ExitedWithCode(66), "ThreadSanitizer: data race");
    report(e.name, "caught: ThreadSanitizer reports a data race");
    return;
  }
#endif
#if defined(__SANITIZE_ADDRESS__)
  if (e.asan) {
    // UBSan's bounds check sees a __shared__ array's type first; ASan sees the heap.
    EXPECT_DEATH(run(c.x, c.shape), "AddressSanitizer: heap-buffer-overflow|runtime error: index [0-9]+ out of bounds");
    report(e.name, "caught: ASan/UBSan report an out-of-bounds access");
    return;
  }
#endif
  const lits_emu::Settings& s = lits_emu::settings();
  Fiber want = e.orders[static_cast<int>(s.order)];
  // Threads run in no fixed order: only the controls and the diagnoses are certain there.
  if (s.mode == lits_emu::Mode::kThreads && want == Fiber::kWrong) want = Fiber::kAny;
  if (want == Fiber::kDiagnosed) {
    EXPECT_DEATH(run(c.x, c.shape), std::string("cuda-emu error: .*") + e.diagnosis);
    report(e.name, std::string("caught: diagnosed (") + e.diagnosis + ")");
    return;
  }
  const bool right = matches(c.expected, run(c.x, c.shape));
  report(e.name, right ? (control ? "right result (control)" : "not caught in this mode") : "caught: wrong result");
  if (want == Fiber::kRight) {
    EXPECT_TRUE(right) << e.name << " must match its CPU twin";
  }
  if (want == Fiber::kWrong) {
    EXPECT_FALSE(right) << e.name << " must give a wrong result in this order";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, EmuMutants, ::testing::ValuesIn(kTable),
                         [](const ::testing::TestParamInfo<Expectation>& p) { return std::string(p.param.name); });

TEST(EmuMutantsTable, EveryMutantHasAnExpectation) {
  std::vector<std::string> names;
#define LITS_NAME(n) names.push_back(#n);
  LITS_EMU_MUTANTS(LITS_NAME)
#undef LITS_NAME
  for (const std::string& n : names) {
    bool found = false;
    for (const Expectation& e : kTable) found = found || n == e.name;
    EXPECT_TRUE(found) << "mutants.txt has " << n << ", which kTable does not list";
  }
  EXPECT_EQ(names.size(), std::size(kTable));
}

}  // namespace
}  // namespace lits::emu_test
