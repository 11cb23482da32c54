// CUDA convolutions on cuDNN's legacy convolution API (deprecated in cuDNN 9 but complete and
// working; cudnn_frontend is not available here). The algorithm for each (device, direction,
// data type, math, shape, determinism) is chosen once by cudnnFind (timing the heuristics'
// candidates on the first call's operands) and cached;
// workspace comes from the engine's grow-only per-device buffer. Float32 in MathMode::kFp32 uses
// CUDNN_FMA_MATH (no TF32), so results match the CPU within float32 rounding; kTf32 allows TF32
// tensor cores; kBf16 converts the operands to bfloat16 in the workspace, convolves in cuDNN's
// bfloat16 configuration (bfloat16 tensors, float32 compute) and converts the product back.
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/conv.h"
#include "kernels/cuda_launch.h"
#include "kernels/precision.h"

namespace lits::kernels {
namespace {

// The descriptors' data type, the convolution's compute type and math of one call.
struct Types {
  cudnnDataType_t data, compute;
  cudnnMathType_t math;
};
template <typename T>
Types types_for(MathMode m) {
  if (sizeof(T) == 8) return {CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH};
  if (m == MathMode::kBf16) return {CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH};
  return {CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, m == MathMode::kTf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH};
}

// Owns the four descriptors of one convolution.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ~Descriptors() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

Status make_descriptors(const ConvShape& s, Types t, Descriptors* d) {
  const cudnnDataType_t dt = t.data;
  const auto i = [](int64_t v) { return static_cast<int>(v); };
  LITS_KERNEL_TRY(Library::kCudnn, cudnnCreateTensorDescriptor(&d->x));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnCreateTensorDescriptor(&d->y));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnCreateTensorDescriptor(&d->bias));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnCreateFilterDescriptor(&d->w));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnCreateConvolutionDescriptor(&d->conv));
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, dt, i(s.N), i(s.Ci), i(s.H), i(s.W)));
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, dt, i(s.N), i(s.Co), i(s.Ho), i(s.Wo)));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnSetTensor4dDescriptor(d->bias, CUDNN_TENSOR_NCHW, dt, 1, i(s.Co), 1, 1));
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnSetFilter4dDescriptor(d->w, dt, CUDNN_TENSOR_NCHW, i(s.Co), i(s.Ci), i(s.K), i(s.K)));
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnSetConvolution2dDescriptor(d->conv, i(s.pad), i(s.pad), i(s.stride), i(s.stride), i(s.dil),
                                                  i(s.dil), CUDNN_CROSS_CORRELATION, t.compute));
  LITS_KERNEL_TRY(Library::kCudnn, cudnnSetConvolutionMathType(d->conv, t.math));
  return Status{};
}

enum class Direction { kForward, kBackwardData, kBackwardWeight };

struct Choice {
  int algo = 0;
  size_t workspace = 0;
};

using Key = std::tuple<int, int, int, int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, bool>;

Key make_key(Direction dir, Types t, const ConvShape& s, bool deterministic) {
  int device = -1;
  cudaGetDevice(&device);
  return Key{device,
             static_cast<int>(dir),
             static_cast<int>(t.data),
             static_cast<int>(t.math),
             s.N,
             s.Ci,
             s.H,
             s.W,
             s.Co,
             s.K,
             s.stride,
             s.pad,
             s.dil,
             deterministic};
}

std::mutex g_cache_mutex;
std::map<Key, Choice> g_cache;

// First result that ran successfully (and is deterministic when asked): the heuristics' order, or
// cudnnFind's, fastest first.
template <typename Perf>
bool pick(const Perf* perf, int count, bool deterministic, Choice* c) {
  for (int k = 0; k < count; ++k) {
    if (perf[k].status != CUDNN_STATUS_SUCCESS) continue;
    if (deterministic && perf[k].determinism != CUDNN_DETERMINISTIC) continue;
    c->algo = static_cast<int>(perf[k].algo);
    c->workspace = perf[k].memory;
    return true;
  }
  return false;
}

bool cached(const Key& key, Choice* out) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto it = g_cache.find(key);
  if (it == g_cache.end()) return false;
  *out = it->second;
  return true;
}

// The heuristics' candidates: the first usable one, and the largest workspace among them (what
// cudnnFind may try, capped).
struct Candidates {
  Choice first;
  bool found = false;
  size_t largest = 0;
};
constexpr size_t kFindWorkspaceCap = size_t{256} << 20;

template <typename Perf>
Candidates candidates_of(const Perf* perf, int n, bool deterministic) {
  Candidates r;
  r.found = pick(perf, n, deterministic, &r.first);
  for (int k = 0; k < n; ++k)
    if (perf[k].status == CUDNN_STATUS_SUCCESS && perf[k].memory <= kFindWorkspaceCap)
      r.largest = std::max(r.largest, perf[k].memory);
  return r;
}

Status heuristics(CudnnHandle h, Direction dir, const Descriptors& d, bool deterministic, Candidates* out) {
  int n = 0;
  if (dir == Direction::kForward) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionForwardAlgorithm_v7(
                                         h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    *out = candidates_of(perf, n, deterministic);
  } else if (dir == Direction::kBackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                         h, d.w, d.y, d.conv, d.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    *out = candidates_of(perf, n, deterministic);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                         h, d.x, d.y, d.conv, d.w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    *out = candidates_of(perf, n, deterministic);
  }
  if (!out->found)
    return Status{static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED), Library::kCudnn,
                  "no cuDNN algorithm for this convolution", __FILE__, __LINE__};
  return Status{};
}

// cudnnFind on the call's own operands (a, b; it writes `out`), `ws_bytes` of workspace: every algorithm
// that fits is run and timed, the fastest usable one chosen.
Status find(CudnnHandle h, Direction dir, const Descriptors& d, bool deterministic, const void* a, const void* b,
            void* out, void* ws, size_t ws_bytes, Choice* c) {
  int n = 0;
  bool found = false;
  if (dir == Direction::kForward) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn,
                    cudnnFindConvolutionForwardAlgorithmEx(h, d.x, a, d.w, b, d.conv, d.y, out,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf, ws, ws_bytes));
    found = pick(perf, n, deterministic, c);
  } else if (dir == Direction::kBackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, b, d.y, a, d.conv, d.x, out,
                                                                                 CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                                                 &n, perf, ws, ws_bytes));
    found = pick(perf, n, deterministic, c);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnFindConvolutionBackwardFilterAlgorithmEx(
                                         h, d.x, a, d.y, b, d.conv, d.w, out, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                         &n, perf, ws, ws_bytes));
    found = pick(perf, n, deterministic, c);
  }
  if (!found)
    return Status{static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED), Library::kCudnn,
                  "cudnnFind ran no usable algorithm for this convolution", __FILE__, __LINE__};
  return Status{};
}

constexpr size_t kAlign = 256;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Element counts of a direction's two inputs and its output (forward: x, w -> y; backward data:
// dy, w -> dx; backward weight: x, dy -> dw).
struct Counts {
  int64_t a, b, out;
};
Counts counts_of(Direction dir, const ConvShape& s) {
  const int64_t x = s.N * s.Ci * s.H * s.W, w = s.Co * s.Ci * s.K * s.K, y = s.N * s.Co * s.Ho * s.Wo;
  if (dir == Direction::kForward) return {x, w, y};
  if (dir == Direction::kBackwardData) return {y, w, x};
  return {x, y, w};
}

// out = the direction's product of a and b, computed as `math` says (beta 0: out is not read).
template <typename T>
Status convolve(CudnnHandle h, Direction dir, const ConvShape& s, const T* a, const T* b, T* out, const Workspace& ws,
                bool deterministic, MathMode math) {
  const Types t = types_for<T>(math);
  Descriptors d;
  Status st = make_descriptors(s, t, &d);
  if (!st.ok()) return st;
  // The algorithm: cached per (device, direction, types, shape, determinism); on a miss cudnnFind times the
  // candidates on this call's operands, except inside a CUDA graph capture (it synchronises), where the
  // heuristics' first choice is taken (and cached: the capture follows uncaptured warm-up steps, so this is
  // rare).
  const Key key = make_key(dir, t, s, deterministic);
  Choice c;
  const bool hit = cached(key, &c);
  cudaStream_t stream = nullptr;
  LITS_KERNEL_TRY(Library::kCudnn, cudnnGetStream(h, &stream));
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  LITS_KERNEL_TRY(Library::kCuda, cudaStreamIsCapturing(stream, &capture));
  Candidates cand;
  if (!hit) {
    st = heuristics(h, dir, d, deterministic, &cand);
    if (!st.ok()) return st;
    c = cand.first;
  }
  const bool trial = !hit && capture == cudaStreamCaptureStatusNone;
  const size_t algo_bytes = trial ? std::max(cand.largest, c.workspace) : c.workspace;
  // One workspace request: the bfloat16 staging of a, b and out (when staged), then the algorithm's.
  const bool staged = t.data == CUDNN_DATA_BFLOAT16;
  const Counts n = counts_of(dir, s);
  const size_t ba = staged ? aligned(size_t(n.a) * 2) : 0, bb = staged ? aligned(size_t(n.b) * 2) : 0,
               bo = staged ? aligned(size_t(n.out) * 2) : 0;
  const size_t total = ba + bb + bo + algo_bytes;
  char* scratch = total > 0 ? static_cast<char*>(ws.get(ws.owner, static_cast<int64_t>(total))) : nullptr;
  void* algo_ws = algo_bytes > 0 ? scratch + ba + bb + bo : nullptr;
  const void* pa = a;
  const void* pb = b;
  void* po = out;
  if (staged) {
    auto* sa = reinterpret_cast<uint16_t*>(scratch);
    auto* sb = reinterpret_cast<uint16_t*>(scratch + ba);
    st = float_to_bf16_cuda(reinterpret_cast<const float*>(a), sa, n.a, stream);
    if (st.ok()) st = float_to_bf16_cuda(reinterpret_cast<const float*>(b), sb, n.b, stream);
    if (!st.ok()) return st;
    pa = sa, pb = sb, po = scratch + ba + bb;
  }
  if (trial) {
    st = find(h, dir, d, deterministic, pa, pb, po, algo_ws, algo_bytes, &c);
    if (!st.ok()) return st;
  }
  if (!hit) {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    g_cache[key] = c;
  }
  // Scaling factors are in the compute type: float for float32 and bfloat16, double for double.
  const T one = T(1), zero = T(0);
  if (dir == Direction::kForward) {
    LITS_KERNEL_TRY(Library::kCudnn, cudnnConvolutionForward(h, &one, d.x, pa, d.w, pb, d.conv,
                                                             static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), algo_ws,
                                                             c.workspace, &zero, d.y, po));
  } else if (dir == Direction::kBackwardData) {
    LITS_KERNEL_TRY(Library::kCudnn, cudnnConvolutionBackwardData(h, &one, d.w, pb, d.y, pa, d.conv,
                                                                  static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
                                                                  algo_ws, c.workspace, &zero, d.x, po));
  } else {
    LITS_KERNEL_TRY(Library::kCudnn,
                    cudnnConvolutionBackwardFilter(h, &one, d.x, pa, d.y, pb, d.conv,
                                                   static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), algo_ws,
                                                   c.workspace, &zero, d.w, po));
  }
  if (staged) return bf16_to_float_cuda(static_cast<const uint16_t*>(po), reinterpret_cast<float*>(out), n.out, stream);
  return Status{};
}

}  // namespace

template <typename T>
Status conv2d_forward_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* w, const T* bias, T* y,
                           const Workspace& ws, MathMode math) {
  Status st = convolve(h, Direction::kForward, s, x, w, y, ws, false, math);
  if (!st.ok() || !bias) return st;
  // The bias in the caller's type, after the (possibly bfloat16) product.
  Descriptors d;
  st = make_descriptors(s, types_for<T>(MathMode::kFp32), &d);
  if (!st.ok()) return st;
  const T one = T(1);
  LITS_KERNEL_TRY(Library::kCudnn, cudnnAddTensor(h, &one, d.bias, bias, &one, d.y, y));
  return Status{};
}

template <typename T>
Status conv2d_backward_data_cuda(CudnnHandle h, const ConvShape& s, const T* dy, const T* w, T* dx, const Workspace& ws,
                                 bool deterministic, MathMode math) {
  return convolve(h, Direction::kBackwardData, s, dy, w, dx, ws, deterministic, math);
}

template <typename T>
Status conv2d_backward_weight_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* dy, T* dw,
                                   const Workspace& ws, bool deterministic, MathMode math) {
  return convolve(h, Direction::kBackwardWeight, s, x, dy, dw, ws, deterministic, math);
}

#define LITS_INSTANTIATE(T)                                                                               \
  template Status conv2d_forward_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, const T*, T*, \
                                         const Workspace&, MathMode);                                     \
  template Status conv2d_backward_data_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, T*,     \
                                               const Workspace&, bool, MathMode);                         \
  template Status conv2d_backward_weight_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, T*,   \
                                                 const Workspace&, bool, MathMode);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
