// Shared by every kernel: the host/device annotation, the CUDA stream type (without CUDA headers),
// the status a CUDA launcher returns, and the small index structs for strided/broadcast access.
// kernels/ sits below engine/, so it reports failures as a Status that the engine turns into
// lits::Error (with the device and the op); CPU kernels do not fail.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define LITS_HD __host__ __device__ __forceinline__
#else
#define LITS_HD inline
#endif

// The same opaque types the CUDA headers declare, so launchers can be declared in plain C++.
struct CUstream_st;
struct cublasContext;
struct cudnnContext;

namespace lits::kernels {

using Stream = ::CUstream_st*;
using CublasHandle = ::cublasContext*;
using CudnnHandle = ::cudnnContext*;

constexpr int kMaxDims = 5;

// Which library returned a non-zero code inside a CUDA launcher.
enum class Library { kCuda, kCublas, kCudnn };

struct Status {
  int code = 0;  // cudaError_t / cublasStatus_t / cudnnStatus_t; 0 is success for all three
  Library library = Library::kCuda;
  const char* statement = "";
  const char* file = "";
  int line = 0;
  bool ok() const { return code == 0; }
};

#define LITS_KERNEL_TRY(library, statement)                                                                   \
  do {                                                                                                        \
    const int lits_code_ = static_cast<int>(statement);                                                       \
    if (lits_code_ != 0) return ::lits::kernels::Status{lits_code_, library, #statement, __FILE__, __LINE__}; \
  } while (0)

// Scratch memory on the device, from the engine's device context: get returns at least `bytes`,
// valid until the next request.
struct Workspace {
  void* (*get)(void* owner, int64_t bytes) = nullptr;
  void* owner = nullptr;
};

// Element-strided view of up to kMaxDims dims: offsets are in elements.
struct StridedIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

// Offset of the linear (row-major) position `i` of `shape` in a tensor with `strides`.
LITS_HD int64_t strided_offset(int ndim, const int64_t* shape, const int64_t* strides, int64_t i) {
  int64_t off = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t c = i % shape[d];
    i /= shape[d];
    off += c * strides[d];
  }
  return off;
}

// True when `strides` are the row-major contiguous strides of `shape` (size-1 dims ignored).
LITS_HD bool is_dense(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t expect = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] != 1 && strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

LITS_HD bool is_scalar(int ndim, const int64_t* strides) {
  for (int d = 0; d < ndim; ++d)
    if (strides[d] != 0) return false;
  return true;
}

// Two operands broadcast to one output shape: operand strides are 0 along broadcast dims.
struct BroadcastIndex {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t a_strides[kMaxDims] = {};
  int64_t b_strides[kMaxDims] = {};
};

LITS_HD void broadcast_offsets(const BroadcastIndex& ix, int64_t i, int64_t* oa, int64_t* ob) {
  int64_t a = 0, b = 0;
  for (int d = ix.ndim - 1; d >= 0; --d) {
    const int64_t c = i % ix.shape[d];
    i /= ix.shape[d];
    a += c * ix.a_strides[d];
    b += c * ix.b_strides[d];
  }
  *oa = a;
  *ob = b;
}

}  // namespace lits::kernels
