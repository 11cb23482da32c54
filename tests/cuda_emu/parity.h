// Shared by the parity tests of the emulated kernels: device buffers, random inputs, the sizes that
// exercise tails and block strides, and the comparison with the CPU twin.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_emu/emu.h"
#include "kernels/common.h"

namespace lits::emu_test {

// Element counts: empty, tails shorter than a block (256 threads), one block exactly, one more,
// and several block strides plus a tail.
inline const std::vector<int64_t> kSizes = {0, 1, 37, 255, 256, 257, 3 * 256 + 19};

using Types = ::testing::Types<float, double>;

template <typename T>
std::vector<T> uniform(size_t n, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(g));
  return v;
}

// Device memory of the emulated device: exact-size, filled with 0xFF bytes until written.
template <typename T>
class Device {
 public:
  explicit Device(size_t n) : n_(n) { EXPECT_EQ(cudaMalloc(&p_, n * sizeof(T)), cudaSuccess); }
  explicit Device(const std::vector<T>& h) : Device(h.size()) {
    if (n_) {
      EXPECT_EQ(cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
    }
  }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device() { EXPECT_EQ(cudaFree(p_), cudaSuccess); }
  T* get() const { return p_; }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    if (n_) {
      EXPECT_EQ(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    }
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

// Same math, different summation order (shared-memory trees against sequential loops), both in
// double: float results agree to float rounding, double results to a few ulps of the sums.
template <typename T>
constexpr double kTol = std::is_same_v<T, float> ? 1e-5 : 1e-12;

template <typename T>
void expect_close(const std::vector<T>& cpu, const std::vector<T>& emu, const std::string& what, double tol = kTol<T>) {
  ASSERT_EQ(cpu.size(), emu.size()) << what;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double c = static_cast<double>(cpu[i]), e = static_cast<double>(emu[i]);
    if (std::isnan(c) && std::isnan(e)) continue;
    if (!(std::fabs(c - e) <= tol * std::max(1.0, std::fabs(c)))) {
      ADD_FAILURE() << what << ": element " << i << " of " << cpu.size() << ": CPU twin " << c << ", emulated CUDA "
                    << e;
      return;
    }
  }
}

template <typename T>
void expect_equal(const std::vector<T>& cpu, const std::vector<T>& emu, const std::string& what) {
  expect_close(cpu, emu, what, 0.0);
}

inline void expect_ok(const kernels::Status& s) {
  EXPECT_EQ(s.code, 0) << s.statement << " (" << s.file << ":" << s.line << ")";
}

inline std::string size_text(int64_t n) { return "n=" + std::to_string(n); }

// The engine's grow-only workspace (kernels::Workspace), in emulated device memory.
struct Scratch {
  void* p = nullptr;
  int64_t bytes = 0;
  ~Scratch() { cudaFree(p); }
  static void* get(void* owner, int64_t bytes) {
    auto* s = static_cast<Scratch*>(owner);
    if (bytes > s->bytes) {
      cudaFree(s->p);
      EXPECT_EQ(cudaMalloc(&s->p, static_cast<size_t>(bytes)), cudaSuccess);
      s->bytes = bytes;
    }
    return s->p;
  }
};

}  // namespace lits::emu_test
