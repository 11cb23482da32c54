// CUDA convolutions on cuDNN's legacy convolution API (deprecated in cuDNN 9 but complete and
// working; cudnn_frontend is not available here). The algorithm for each (device, direction,
// dtype, shape, determinism) is picked once from cuDNN's heuristics and cached; workspace comes
// from the engine's grow-only per-device buffer. Float32 uses CUDNN_FMA_MATH: no TF32, so results
// match the CPU within float32 rounding.
#include <cudnn.h>

#include <map>
#include <mutex>
#include <tuple>

#include "kernels/conv.h"
#include "kernels/cuda_launch.h"

namespace lits::kernels {
namespace {

template <typename T>
constexpr cudnnDataType_t cudnn_type() {
  return sizeof(T) == 4 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
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

Status make_descriptors(const ConvShape& s, cudnnDataType_t dt, Descriptors* d) {
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
                                                  i(s.dil), CUDNN_CROSS_CORRELATION, dt));
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnSetConvolutionMathType(d->conv, dt == CUDNN_DATA_FLOAT ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
  return Status{};
}

enum class Direction { kForward, kBackwardData, kBackwardWeight };

struct Choice {
  int algo = 0;
  size_t workspace = 0;
};

using Key =
    std::tuple<int, int, int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

Key make_key(Direction dir, cudnnDataType_t dt, const ConvShape& s, bool deterministic) {
  int device = -1;
  cudaGetDevice(&device);
  return Key{device, static_cast<int>(dir), static_cast<int>(dt), s.N, s.Ci, s.H, s.W, s.Co, s.K, s.stride, s.pad,
             s.dil,  deterministic};
}

std::mutex g_cache_mutex;
std::map<Key, Choice> g_cache;

// First heuristic result that ran successfully (and is deterministic when asked).
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

Status choose(CudnnHandle h, Direction dir, const ConvShape& s, const Descriptors& d, cudnnDataType_t dt,
              bool deterministic, Choice* out) {
  const Key key = make_key(dir, dt, s, deterministic);
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = g_cache.find(key);
    if (it != g_cache.end()) {
      *out = it->second;
      return Status{};
    }
  }
  Choice c;
  bool found = false;
  int n = 0;
  if (dir == Direction::kForward) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionForwardAlgorithm_v7(
                                         h, d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    found = pick(perf, n, false, &c);
    if (found)
      LITS_KERNEL_TRY(Library::kCudnn,
                      cudnnGetConvolutionForwardWorkspaceSize(
                          h, d.x, d.w, d.conv, d.y, static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), &c.workspace));
  } else if (dir == Direction::kBackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                         h, d.w, d.y, d.conv, d.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    found = pick(perf, n, deterministic, &c);
    if (found)
      LITS_KERNEL_TRY(Library::kCudnn,
                      cudnnGetConvolutionBackwardDataWorkspaceSize(
                          h, d.w, d.y, d.conv, d.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), &c.workspace));
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                         h, d.x, d.y, d.conv, d.w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    found = pick(perf, n, deterministic, &c);
    if (found)
      LITS_KERNEL_TRY(Library::kCudnn, cudnnGetConvolutionBackwardFilterWorkspaceSize(
                                           h, d.x, d.y, d.conv, d.w,
                                           static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), &c.workspace));
  }
  if (!found)
    return Status{static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED), Library::kCudnn,
                  "no cuDNN algorithm for this convolution", __FILE__, __LINE__};
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  g_cache[key] = c;
  *out = c;
  return Status{};
}

void* workspace_for(const Workspace& ws, size_t bytes) {
  return bytes > 0 ? ws.get(ws.owner, static_cast<int64_t>(bytes)) : nullptr;
}

}  // namespace

template <typename T>
Status conv2d_forward_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* w, const T* bias, T* y,
                           const Workspace& ws) {
  Descriptors d;
  Status st = make_descriptors(s, cudnn_type<T>(), &d);
  if (!st.ok()) return st;
  Choice c;
  st = choose(h, Direction::kForward, s, d, cudnn_type<T>(), false, &c);
  if (!st.ok()) return st;
  const T one = T(1), zero = T(0);
  LITS_KERNEL_TRY(Library::kCudnn, cudnnConvolutionForward(h, &one, d.x, x, d.w, w, d.conv,
                                                           static_cast<cudnnConvolutionFwdAlgo_t>(c.algo),
                                                           workspace_for(ws, c.workspace), c.workspace, &zero, d.y, y));
  if (bias) LITS_KERNEL_TRY(Library::kCudnn, cudnnAddTensor(h, &one, d.bias, bias, &one, d.y, y));
  return Status{};
}

template <typename T>
Status conv2d_backward_data_cuda(CudnnHandle h, const ConvShape& s, const T* dy, const T* w, T* dx, const Workspace& ws,
                                 bool deterministic) {
  Descriptors d;
  Status st = make_descriptors(s, cudnn_type<T>(), &d);
  if (!st.ok()) return st;
  Choice c;
  st = choose(h, Direction::kBackwardData, s, d, cudnn_type<T>(), deterministic, &c);
  if (!st.ok()) return st;
  const T one = T(1), zero = T(0);
  LITS_KERNEL_TRY(
      Library::kCudnn,
      cudnnConvolutionBackwardData(h, &one, d.w, w, d.y, dy, d.conv, static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo),
                                   workspace_for(ws, c.workspace), c.workspace, &zero, d.x, dx));
  return Status{};
}

template <typename T>
Status conv2d_backward_weight_cuda(CudnnHandle h, const ConvShape& s, const T* x, const T* dy, T* dw,
                                   const Workspace& ws, bool deterministic) {
  Descriptors d;
  Status st = make_descriptors(s, cudnn_type<T>(), &d);
  if (!st.ok()) return st;
  Choice c;
  st = choose(h, Direction::kBackwardWeight, s, d, cudnn_type<T>(), deterministic, &c);
  if (!st.ok()) return st;
  const T one = T(1), zero = T(0);
  LITS_KERNEL_TRY(Library::kCudnn,
                  cudnnConvolutionBackwardFilter(h, &one, d.x, x, d.y, dy, d.conv,
                                                 static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo),
                                                 workspace_for(ws, c.workspace), c.workspace, &zero, d.w, dw));
  return Status{};
}

#define LITS_INSTANTIATE(T)                                                                               \
  template Status conv2d_forward_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, const T*, T*, \
                                         const Workspace&);                                               \
  template Status conv2d_backward_data_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, T*,     \
                                               const Workspace&, bool);                                   \
  template Status conv2d_backward_weight_cuda<T>(CudnnHandle, const ConvShape&, const T*, const T*, T*,   \
                                                 const Workspace&, bool);
LITS_INSTANTIATE(float)
LITS_INSTANTIATE(double)
#undef LITS_INSTANTIATE

}  // namespace lits::kernels
