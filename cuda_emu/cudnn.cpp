// cuDNN on the emulated device (cudnn.h). The convolutions are direct loops in double (no im2col,
// no GEMM): an oracle independent of the project's im2col CPU convolution, fast enough for a
// training step. Numerics, from the cuDNN documentation: float operands are rounded to TF32
// (10 mantissa bits, to nearest, ties away) unless the math type is CUDNN_FMA_MATH, since
// CUDNN_DEFAULT_MATH and CUDNN_TENSOR_OP_MATH permit TF32 tensor cores on Ampere and later; the
// bfloat16 configuration (bfloat16 tensors, float compute) reads bfloat16 and writes its sum
// rounded to the nearest even bfloat16. What is checked: live handles and descriptors
// (CUDNN_STATUS_NOT_INITIALIZED / BAD_PARAM), positive tensor and filter dimensions, NCHW, equal
// data types with a matching compute type (FLOAT or DOUBLE the same type, BFLOAT16 with FLOAT,
// else NOT_SUPPORTED; tensor-op math with double is not supported), input channels equal to the filter's, an output
// descriptor of exactly the convolution's output size, an algorithm this emulation offers, and a workspace at least as
// large as the size queried for that algorithm (BAD_PARAM otherwise; the workspace is overwritten with 0xFF bytes, as a
// real algorithm may use all of it). Beyond the documentation, every tensor must lie inside one device allocation and
// the handle's stream must be alive (EXECUTION_FAILED otherwise: on a GPU an illegal address or a dead stream).
#include "cuda_emu/cudnn.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"
#include "cuda_emu/streams.h"

struct cudnnContext {
  cudaStream_t stream = nullptr;
};
struct cudnnTensorStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
};
struct cudnnFilterStruct {
  bool set = false;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  int k = 0, c = 0, h = 0, w = 0;
};
struct cudnnConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, u = 1, v = 1, dil_h = 1, dil_w = 1;
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace {

template <typename P>
cudnnStatus_t create(P** out) {
  if (!out) return CUDNN_STATUS_BAD_PARAM_NULL_POINTER;
  *out = lits_emu::make_handle(P{});
  return CUDNN_STATUS_SUCCESS;
}
template <typename P>
cudnnStatus_t destroy(P* p) {
  return lits_emu::drop_handle(p) ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_BAD_PARAM;
}
template <typename P>
bool live(const P* p) {
  return lits_emu::live_handle(p);
}

size_t elem_size(cudnnDataType_t t) {
  return t == CUDNN_DATA_DOUBLE ? 8 : t == CUDNN_DATA_BFLOAT16 || t == CUDNN_DATA_HALF ? 2 : 4;
}
bool served_type(cudnnDataType_t t) {
  return t == CUDNN_DATA_FLOAT || t == CUDNN_DATA_DOUBLE || t == CUDNN_DATA_BFLOAT16;
}

// The tensor cores' operand conversions, written here independently of the project's kernels.
uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
float tf32(float f) {  // nearest, ties away from zero (cvt.rna.tf32.f32)
  const uint32_t u = bits_of(f);
  return (u & 0x7F800000u) == 0x7F800000u ? f : float_of((u + 0x1000u) & ~0x1FFFu);
}
uint16_t to_bf16(float f) {  // nearest even; NaN stays NaN
  const uint32_t u = bits_of(f);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
double from_bf16(uint16_t b) { return static_cast<double>(float_of(static_cast<uint32_t>(b) << 16)); }

// One validated convolution: x [N, C, H, W], w [K, C, R, S], y [N, K, P, Q].
struct Conv {
  int N, C, H, W, K, R, S, P, Q;
  const cudnnConvolutionStruct* d;
  cudnnDataType_t type;
  size_t x_bytes() const { return size_t(N) * C * H * W * elem_size(type); }
  size_t w_bytes() const { return size_t(K) * C * R * S * elem_size(type); }
  size_t y_bytes() const { return size_t(N) * K * P * Q * elem_size(type); }
};

int out_size(int in, int pad, int k, int dil, int stride) {
  const int span = in + 2 * pad - ((k - 1) * dil + 1);
  return span < 0 ? -1 : span / stride + 1;
}

cudnnStatus_t check(cudnnHandle_t h, const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                    const cudnnConvolutionStruct* conv, const cudnnTensorStruct* y, Conv* out) {
  if (!live(h)) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!live(x) || !live(w) || !live(conv) || !live(y) || !x->set || !w->set || !conv->set || !y->set)
    return CUDNN_STATUS_BAD_PARAM;
  if (x->type != w->type || x->type != y->type) return CUDNN_STATUS_BAD_PARAM;
  const cudnnDataType_t compute = x->type == CUDNN_DATA_BFLOAT16 ? CUDNN_DATA_FLOAT : x->type;
  if (x->type == CUDNN_DATA_HALF || conv->compute != compute) return CUDNN_STATUS_NOT_SUPPORTED;
  if (x->c != w->c) return CUDNN_STATUS_BAD_PARAM;
  const int P = out_size(x->h, conv->pad_h, w->h, conv->dil_h, conv->u);
  const int Q = out_size(x->w, conv->pad_w, w->w, conv->dil_w, conv->v);
  if (P < 1 || Q < 1 || y->n != x->n || y->c != w->k || y->h != P || y->w != Q) return CUDNN_STATUS_BAD_PARAM;
  *out = Conv{x->n, x->c, x->h, x->w, w->k, w->h, w->w, P, Q, conv, x->type};
  return CUDNN_STATUS_SUCCESS;
}

// The algorithms this emulation offers, with the workspace each needs: an im2col-like buffer or an
// index table, so that the project's workspace handling is exercised. -1: not offered.
enum class Dir { kFwd, kData, kFilter };
int64_t workspace_of(Dir dir, int algo, const Conv& c) {
  const int64_t col = int64_t(c.C) * c.R * c.S * c.P * c.Q * int64_t(elem_size(c.type));
  if (dir == Dir::kFwd) return algo == 0 ? 0 : algo == 1 ? int64_t(c.C) * c.R * c.S * 4 : algo == 2 ? col : -1;
  if (dir == Dir::kData) return algo == 0 ? 0 : algo == 1 ? col : -1;
  return algo == 0 ? 0 : algo == 1 ? col : algo == 3 ? int64_t(c.K) * c.C * 8 : -1;
}
bool deterministic(Dir dir, int algo) { return dir == Dir::kFwd || algo == 1; }

// The heuristic's answer, the algorithms needing a workspace first.
template <typename Perf>
cudnnStatus_t list(Dir dir, const Conv& c, std::vector<int> algos, int requested, int* returned, Perf* perf) {
  if (requested < 1 || !returned || !perf) return CUDNN_STATUS_BAD_PARAM;
  const bool tensor_op = c.d->math == CUDNN_TENSOR_OP_MATH || c.d->math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  *returned = std::min<int>(requested, static_cast<int>(algos.size()));
  for (int i = 0; i < *returned; ++i) {
    Perf& p = perf[i];
    p = Perf{};
    p.algo = static_cast<decltype(p.algo)>(algos[static_cast<size_t>(i)]);
    p.status = tensor_op && c.type == CUDNN_DATA_DOUBLE ? CUDNN_STATUS_NOT_SUPPORTED : CUDNN_STATUS_SUCCESS;
    p.time = 1.0f + static_cast<float>(i);
    p.memory = static_cast<size_t>(workspace_of(dir, algos[static_cast<size_t>(i)], c));
    p.determinism = deterministic(dir, algos[static_cast<size_t>(i)]) ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
    p.mathType = c.d->math;
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t workspace_size(Dir dir, const Conv& c, int algo, size_t* bytes) {
  if (!bytes) return CUDNN_STATUS_BAD_PARAM;
  const int64_t ws = workspace_of(dir, algo, c);
  if (ws < 0) return CUDNN_STATUS_NOT_SUPPORTED;
  *bytes = static_cast<size_t>(ws);
  return CUDNN_STATUS_SUCCESS;
}

// The checks every execution shares; `tensors` are the (pointer, bytes) the call reads or writes.
cudnnStatus_t check_run(cudnnHandle_t h, Dir dir, const Conv& c, int algo, void* ws, size_t ws_bytes,
                        std::initializer_list<std::pair<const void*, size_t>> tensors, const void* alpha,
                        const void* beta) {
  const int64_t need = workspace_of(dir, algo, c);
  if (need < 0) return CUDNN_STATUS_NOT_SUPPORTED;
  if (!alpha || !beta || ws_bytes < static_cast<size_t>(need) || (ws_bytes > 0 && !ws)) return CUDNN_STATUS_BAD_PARAM;
  if (!lits_emu::stream_valid(h->stream)) return CUDNN_STATUS_EXECUTION_FAILED;
  if (ws_bytes > 0 && !lits_emu::is_device_range(ws, ws_bytes)) return CUDNN_STATUS_EXECUTION_FAILED;
  for (const auto& [p, bytes] : tensors)
    if (!lits_emu::is_device_range(p, bytes)) return CUDNN_STATUS_EXECUTION_FAILED;
  return CUDNN_STATUS_SUCCESS;
}

// out = alpha acc + beta out; beta == 0 does not read out (fresh memory may hold NaN).
template <typename T>
void blend(const std::vector<double>& acc, const void* alpha, const void* beta, void* out) {
  T* o = static_cast<T*>(out);
  const double a = static_cast<double>(*static_cast<const T*>(alpha)),
               b = static_cast<double>(*static_cast<const T*>(beta));
  for (size_t i = 0; i < acc.size(); ++i)
    o[i] = static_cast<T>(a * acc[i] + (b == 0.0 ? 0.0 : b * static_cast<double>(o[i])));
}

enum class Role { kY, kX, kW };  // which operand the convolution produces

// The output columns q whose input column q * v - pad + s * dil lies inside [0, W): [lo, hi).
struct Span {
  int lo, hi;
};
Span columns(const Conv& c, int s) {
  const cudnnConvolutionStruct& d = *c.d;
  const int off = s * d.dil_w - d.pad_w;  // iw = q * v + off
  int lo = off >= 0 ? 0 : (-off + d.v - 1) / d.v;
  int hi = c.W - 1 - off < 0 ? 0 : (c.W - 1 - off) / d.v + 1;
  lo = std::min(lo, c.Q);
  hi = std::max(lo, std::min(hi, c.Q));
  return {lo, hi};
}
int input_row(const Conv& c, int p, int r) { return p * c.d->u - c.d->pad_h + r * c.d->dil_h; }
// CUDNN_CONVOLUTION flips the filter; cross-correlation does not.
size_t filter_at(const Conv& c, int k, int ch, int r, int s) {
  const bool flip = c.d->mode == CUDNN_CONVOLUTION;
  const int fr = flip ? c.R - 1 - r : r, fs = flip ? c.S - 1 - s : s;
  return ((size_t(k) * c.C + ch) * c.R + fr) * c.S + fs;
}

// Calls f(filter index, output row p, input row ih, columns, column offset) for every filter tap
// (r, s) of output channel k and input channel ch, and every output row whose input row is inside
// the image: input column = output column * v + offset.
template <typename F>
void for_each_tap_row(const Conv& c, int k, int ch, F f) {
  for (int r = 0; r < c.R; ++r)
    for (int s = 0; s < c.S; ++s) {
      const size_t wi = filter_at(c, k, ch, r, s);
      const Span q = columns(c, s);
      const int off = s * c.d->dil_w - c.d->pad_w;
      for (int p = 0; p < c.P; ++p) {
        const int ih = input_row(c, p, r);
        if (ih >= 0 && ih < c.H) f(wi, p, ih, q, off);
      }
    }
}

// An operand as the arithmetic sees it, in double: float rounded to TF32 unless FMA math,
// bfloat16 widened.
std::vector<double> operand(const Conv& c, const void* p, size_t n) {
  std::vector<double> v(n);
  if (c.type == CUDNN_DATA_DOUBLE) {
    std::copy_n(static_cast<const double*>(p), n, v.begin());
  } else if (c.type == CUDNN_DATA_BFLOAT16) {
    const auto* b = static_cast<const uint16_t*>(p);
    for (size_t i = 0; i < n; ++i) v[i] = from_bf16(b[i]);
  } else {
    const auto* f = static_cast<const float*>(p);
    const bool round = c.d->math != CUDNN_FMA_MATH;
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(round ? tf32(f[i]) : f[i]);
  }
  return v;
}

// The direct convolution in double, one output plane (or filter slice) per OpenMP task, each
// summed in a fixed order: the same bits whatever the thread count. Stride 1 (the common case) has
// loops of its own, which the compiler vectorises.
std::vector<double> compute(const Conv& c, Role role, const double* a, const double* b) {
  const int v = c.d->v;
  const size_t n = (role == Role::kY ? c.y_bytes() : role == Role::kX ? c.x_bytes() : c.w_bytes()) / elem_size(c.type);
  std::vector<double> acc(n, 0.0);
  if (role == Role::kY) {  // a = x, b = w: y[n, k] = sum over ch, r, s
#pragma omp parallel for collapse(2) schedule(static)
    for (int in = 0; in < c.N; ++in)
      for (int k = 0; k < c.K; ++k)
        for (int ch = 0; ch < c.C; ++ch)
          for_each_tap_row(c, k, ch, [&](size_t wi, int p, int ih, Span q, int off) {
            const double wv = b[wi];
            const double* x = a + ((size_t(in) * c.C + ch) * c.H + ih) * c.W + off;
            double* y = acc.data() + ((size_t(in) * c.K + k) * c.P + p) * c.Q;
            if (v == 1)
              for (int j = q.lo; j < q.hi; ++j) y[j] += wv * x[j];
            else
              for (int j = q.lo; j < q.hi; ++j) y[j] += wv * x[j * v];
          });
  } else if (role == Role::kX) {  // a = dy, b = w: dx[n, ch] = sum over k, r, s
#pragma omp parallel for collapse(2) schedule(static)
    for (int in = 0; in < c.N; ++in)
      for (int ch = 0; ch < c.C; ++ch)
        for (int k = 0; k < c.K; ++k)
          for_each_tap_row(c, k, ch, [&](size_t wi, int p, int ih, Span q, int off) {
            const double wv = b[wi];
            const double* dy = a + ((size_t(in) * c.K + k) * c.P + p) * c.Q;
            double* x = acc.data() + ((size_t(in) * c.C + ch) * c.H + ih) * c.W + off;
            if (v == 1)
              for (int j = q.lo; j < q.hi; ++j) x[j] += wv * dy[j];
            else
              for (int j = q.lo; j < q.hi; ++j) x[j * v] += wv * dy[j];
          });
  } else {  // a = x, b = dy: dw[k, ch] = sum over n, p, q
#pragma omp parallel for collapse(2) schedule(static)
    for (int k = 0; k < c.K; ++k)
      for (int ch = 0; ch < c.C; ++ch)
        for (int in = 0; in < c.N; ++in)
          for_each_tap_row(c, k, ch, [&](size_t wi, int p, int ih, Span q, int off) {
            const double* x = a + ((size_t(in) * c.C + ch) * c.H + ih) * c.W + off;
            const double* dy = b + ((size_t(in) * c.K + k) * c.P + p) * c.Q;
            double sum = 0.0;
            for (int j = q.lo; j < q.hi; ++j) sum += x[j * v] * dy[j];
            acc[wi] += sum;
          });
  }
  return acc;
}

// out = alpha acc + beta out in bfloat16 (scalars in float, the compute type), rounded once.
void blend_bf16(const std::vector<double>& acc, const void* alpha, const void* beta, void* out) {
  auto* o = static_cast<uint16_t*>(out);
  const double a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  for (size_t i = 0; i < acc.size(); ++i)
    o[i] = to_bf16(static_cast<float>(a * acc[i] + (b == 0.0 ? 0.0 : b * from_bf16(o[i]))));
}

void run(const Conv& c, Role role, const void* in1, const void* in2, const void* alpha, const void* beta, void* out) {
  const size_t n1 = (role == Role::kX ? c.y_bytes() : c.x_bytes()) / elem_size(c.type);
  const size_t n2 = (role == Role::kW ? c.y_bytes() : c.w_bytes()) / elem_size(c.type);
  const std::vector<double> a = operand(c, in1, n1), b = operand(c, in2, n2);
  const std::vector<double> acc = compute(c, role, a.data(), b.data());
  if (c.type == CUDNN_DATA_DOUBLE)
    blend<double>(acc, alpha, beta, out);
  else if (c.type == CUDNN_DATA_BFLOAT16)
    blend_bf16(acc, alpha, beta, out);
  else
    blend<float>(acc, alpha, beta, out);
}

// The scalars alpha and beta, read at the call (host pointer mode) in the data type.
struct Scalars {
  double alpha, beta;
  float alpha_f, beta_f;
  const void* a(cudnnDataType_t t) const {
    return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&alpha) : &alpha_f;
  }
  const void* b(cudnnDataType_t t) const { return t == CUDNN_DATA_DOUBLE ? static_cast<const void*>(&beta) : &beta_f; }
};
Scalars scalars(cudnnDataType_t t, const void* alpha, const void* beta) {
  Scalars s{};
  if (t == CUDNN_DATA_DOUBLE) {
    s.alpha = *static_cast<const double*>(alpha), s.beta = *static_cast<const double*>(beta);
  } else {
    s.alpha_f = *static_cast<const float*>(alpha), s.beta_f = *static_cast<const float*>(beta);
  }
  return s;
}

// One convolution: checked at the call, then queued on the handle's stream (the emulated device
// runs stream work late, cuda_emu/streams.h) with copies of its descriptor and scalars, as cuDNN
// takes them at the call. It fills the workspace with 0xFF bytes, then writes the direction's
// product into its output operand (x for backward data, w for backward filter, y forward).
struct Operands {
  const void *x, *w, *y;
};
cudnnStatus_t execute(cudnnHandle_t h, Dir dir, const cudnnTensorStruct* xd, const cudnnFilterStruct* wd,
                      const cudnnConvolutionStruct* conv, const cudnnTensorStruct* yd, int algo, void* ws,
                      size_t ws_bytes, Operands o, const void* alpha, const void* beta) {
  Conv c;
  cudnnStatus_t st = check(h, xd, wd, conv, yd, &c);
  if (st == CUDNN_STATUS_SUCCESS)
    st = check_run(h, dir, c, algo, ws, ws_bytes, {{o.x, c.x_bytes()}, {o.w, c.w_bytes()}, {o.y, c.y_bytes()}}, alpha,
                   beta);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  auto desc = std::make_shared<cudnnConvolutionStruct>(*conv);
  const Scalars k = scalars(c.type, alpha, beta);
  lits_emu::enqueue(h->stream, [c, desc, k, dir, ws, ws_bytes, o]() mutable {
    c.d = desc.get();
    if (ws_bytes > 0) std::memset(ws, 0xFF, ws_bytes);
    const void *a = k.a(c.type), *b = k.b(c.type);
    if (dir == Dir::kFwd) run(c, Role::kY, o.x, o.w, a, b, const_cast<void*>(o.y));
    if (dir == Dir::kData) run(c, Role::kX, o.y, o.w, a, b, const_cast<void*>(o.x));
    if (dir == Dir::kFilter) run(c, Role::kW, o.x, o.y, a, b, const_cast<void*>(o.w));
  });
  return CUDNN_STATUS_SUCCESS;
}

// cudnnFind: the algorithms of `algos` whose workspace fits, the product computed once into the output
// (a real cudnnFind writes it with every trial), listed in the heuristics' order.
template <typename Perf>
cudnnStatus_t find(cudnnHandle_t h, Dir dir, const cudnnTensorStruct* xd, const cudnnFilterStruct* wd,
                   const cudnnConvolutionStruct* conv, const cudnnTensorStruct* yd, const std::vector<int>& algos,
                   Operands o, int requested, int* returned, Perf* perf, void* ws, size_t ws_bytes) {
  Conv c;
  cudnnStatus_t st = check(h, xd, wd, conv, yd, &c);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  if (requested < 1 || !returned || !perf) return CUDNN_STATUS_BAD_PARAM;
  // cudnnFind runs and times on the device, waiting for it: never inside a stream capture.
  if (lits_emu::check_unsafe_call() != cudaSuccess) return CUDNN_STATUS_EXECUTION_FAILED;
  std::vector<int> fit;
  for (int a : algos)
    if (workspace_of(dir, a, c) >= 0 && static_cast<size_t>(workspace_of(dir, a, c)) <= ws_bytes) fit.push_back(a);
  if (fit.empty()) return CUDNN_STATUS_NOT_SUPPORTED;
  const double one_d = 1.0, zero_d = 0.0;
  const float one_f = 1.0f, zero_f = 0.0f;
  const bool dbl = c.type == CUDNN_DATA_DOUBLE;
  st = execute(h, dir, xd, wd, conv, yd, fit[0], ws, ws_bytes, o, dbl ? static_cast<const void*>(&one_d) : &one_f,
               dbl ? static_cast<const void*>(&zero_d) : &zero_f);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  return list(dir, c, fit, requested, returned, perf);
}

}  // namespace

size_t cudnnGetVersion() { return 0; }  // 0: not a real cuDNN

const char* cudnnGetErrorString(cudnnStatus_t s) {
  switch (s) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
  }
  return "CUDNN_STATUS_UNKNOWN";
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* h) { return create(h); }
cudnnStatus_t cudnnDestroy(cudnnHandle_t h) { return live(h) ? destroy(h) : CUDNN_STATUS_NOT_INITIALIZED; }
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
  if (!live(h)) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!lits_emu::stream_valid(s)) return CUDNN_STATUS_BAD_PARAM;
  h->stream = s;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t h, cudaStream_t* s) {
  if (!live(h)) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!s) return CUDNN_STATUS_BAD_PARAM;
  *s = h->stream;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) { return create(d); }
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) { return destroy(d); }
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format, cudnnDataType_t type,
                                         int n, int c, int h, int w) {
  if (!live(d) || n <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || !served_type(type))
    return CUDNN_STATUS_NOT_SUPPORTED;  // the emulation serves what the project uses
  *d = cudnnTensorStruct{true, type, n, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) { return create(d); }
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) { return destroy(d); }
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format,
                                         int k, int c, int h, int w) {
  if (!live(d) || k <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || !served_type(type)) return CUDNN_STATUS_NOT_SUPPORTED;
  *d = cudnnFilterStruct{true, type, k, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) { return create(d); }
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) { return destroy(d); }
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w, int u, int v,
                                              int dil_h, int dil_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute) {
  if (!live(d) || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 || dil_w <= 0 ||
      (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION))
    return CUDNN_STATUS_BAD_PARAM;
  const cudnnMathType_t math = d->math;
  *d = cudnnConvolutionStruct{true, pad_h, pad_w, u, v, dil_h, dil_w, mode, compute, math};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
  if (!live(d) || math < CUDNN_DEFAULT_MATH || math > CUDNN_FMA_MATH) return CUDNN_STATUS_BAD_PARAM;
  d->math = math;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                     cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                                                     cudnnTensorDescriptor_t y, int requested, int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* perf) {
  Conv c;
  const cudnnStatus_t st = check(h, x, w, conv, y, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : list(Dir::kFwd, c, {2, 1, 0}, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t h, cudnnFilterDescriptor_t w,
                                                          cudnnTensorDescriptor_t dy, cudnnConvolutionDescriptor_t conv,
                                                          cudnnTensorDescriptor_t dx, int requested, int* returned,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perf) {
  Conv c;
  const cudnnStatus_t st = check(h, dx, w, conv, dy, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : list(Dir::kData, c, {1, 0}, requested, returned, perf);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                            cudnnTensorDescriptor_t dy,
                                                            cudnnConvolutionDescriptor_t conv,
                                                            cudnnFilterDescriptor_t dw, int requested, int* returned,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
  Conv c;
  const cudnnStatus_t st = check(h, x, dw, conv, dy, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : list(Dir::kFilter, c, {3, 1, 0}, requested, returned, perf);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                      cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                                                      cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  Conv c;
  const cudnnStatus_t st = check(h, x, w, conv, y, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : workspace_size(Dir::kFwd, c, algo, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t h, cudnnFilterDescriptor_t w,
                                                           cudnnTensorDescriptor_t dy,
                                                           cudnnConvolutionDescriptor_t conv,
                                                           cudnnTensorDescriptor_t dx,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
  Conv c;
  const cudnnStatus_t st = check(h, dx, w, conv, dy, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : workspace_size(Dir::kData, c, algo, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t h, cudnnTensorDescriptor_t x,
                                                             cudnnTensorDescriptor_t dy,
                                                             cudnnConvolutionDescriptor_t conv,
                                                             cudnnFilterDescriptor_t dw,
                                                             cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
  Conv c;
  const cudnnStatus_t st = check(h, x, dw, conv, dy, &c);
  return st != CUDNN_STATUS_SUCCESS ? st : workspace_size(Dir::kFilter, c, algo, bytes);
}

cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t h, cudnnTensorDescriptor_t xd, const void* x,
                                                     cudnnFilterDescriptor_t wd, const void* w,
                                                     cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t yd,
                                                     void* y, int requested, int* returned,
                                                     cudnnConvolutionFwdAlgoPerf_t* perf, void* ws, size_t ws_bytes) {
  return find(h, Dir::kFwd, xd, wd, conv, yd, {2, 1, 0}, {x, w, y}, requested, returned, perf, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(cudnnHandle_t h, cudnnFilterDescriptor_t wd, const void* w,
                                                          cudnnTensorDescriptor_t dyd, const void* dy,
                                                          cudnnConvolutionDescriptor_t conv,
                                                          cudnnTensorDescriptor_t dxd, void* dx, int requested,
                                                          int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf,
                                                          void* ws, size_t ws_bytes) {
  return find(h, Dir::kData, dxd, wd, conv, dyd, {1, 0}, {dx, w, dy}, requested, returned, perf, ws, ws_bytes);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnnHandle_t h, cudnnTensorDescriptor_t xd, const void* x,
                                                            cudnnTensorDescriptor_t dyd, const void* dy,
                                                            cudnnConvolutionDescriptor_t conv,
                                                            cudnnFilterDescriptor_t dwd, void* dw, int requested,
                                                            int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf,
                                                            void* ws, size_t ws_bytes) {
  return find(h, Dir::kFilter, xd, dwd, conv, dyd, {3, 1, 0}, {x, dw, dy}, requested, returned, perf, ws, ws_bytes);
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t xd, const void* x,
                                      cudnnFilterDescriptor_t wd, const void* w, cudnnConvolutionDescriptor_t conv,
                                      cudnnConvolutionFwdAlgo_t algo, void* ws, size_t ws_bytes, const void* beta,
                                      cudnnTensorDescriptor_t yd, void* y) {
  return execute(h, Dir::kFwd, xd, wd, conv, yd, algo, ws, ws_bytes, {x, w, y}, alpha, beta);
}
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void* alpha, cudnnFilterDescriptor_t wd,
                                           const void* w, cudnnTensorDescriptor_t dyd, const void* dy,
                                           cudnnConvolutionDescriptor_t conv, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* ws, size_t ws_bytes, const void* beta, cudnnTensorDescriptor_t dxd,
                                           void* dx) {
  return execute(h, Dir::kData, dxd, wd, conv, dyd, algo, ws, ws_bytes, {dx, w, dy}, alpha, beta);
}
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t xd,
                                             const void* x, cudnnTensorDescriptor_t dyd, const void* dy,
                                             cudnnConvolutionDescriptor_t conv, cudnnConvolutionBwdFilterAlgo_t algo,
                                             void* ws, size_t ws_bytes, const void* beta, cudnnFilterDescriptor_t dwd,
                                             void* dw) {
  return execute(h, Dir::kFilter, xd, dwd, conv, dyd, algo, ws, ws_bytes, {x, dw, dy}, alpha, beta);
}

cudnnStatus_t cudnnAddTensor(cudnnHandle_t h, const void* alpha, cudnnTensorDescriptor_t ad, const void* a,
                             const void* beta, cudnnTensorDescriptor_t cd, void* c) {
  if (!live(h)) return CUDNN_STATUS_NOT_INITIALIZED;
  if (!live(ad) || !live(cd) || !ad->set || !cd->set || !alpha || !beta || ad->type != cd->type)
    return CUDNN_STATUS_BAD_PARAM;
  if (cd->type == CUDNN_DATA_BFLOAT16) return CUDNN_STATUS_NOT_SUPPORTED;  // not used by the project
  const int adims[4] = {ad->n, ad->c, ad->h, ad->w}, cdims[4] = {cd->n, cd->c, cd->h, cd->w};
  for (int i = 0; i < 4; ++i)
    if (adims[i] != cdims[i] && adims[i] != 1) return CUDNN_STATUS_BAD_PARAM;
  const size_t e = elem_size(cd->type), na = size_t(ad->n) * ad->c * ad->h * ad->w,
               nc = size_t(cd->n) * cd->c * cd->h * cd->w;
  if (!lits_emu::stream_valid(h->stream) || !lits_emu::is_device_range(a, na * e) ||
      !lits_emu::is_device_range(c, nc * e))
    return CUDNN_STATUS_EXECUTION_FAILED;
  const cudnnDataType_t type = cd->type;
  const Scalars k = scalars(type, alpha, beta);
  std::vector<int> ad_dims(adims, adims + 4), cd_dims(cdims, cdims + 4);
  lits_emu::enqueue(h->stream, [=] {
    std::vector<double> acc(nc);
    for (size_t i = 0; i < nc; ++i) {
      size_t rest = i, ai = 0, stride = 1;
      for (int d = 3; d >= 0; --d) {
        const size_t coord = rest % size_t(cd_dims[size_t(d)]);
        rest /= size_t(cd_dims[size_t(d)]);
        ai += (ad_dims[size_t(d)] == 1 ? 0 : coord) * stride;
        stride *= size_t(ad_dims[size_t(d)]);
      }
      acc[i] = type == CUDNN_DATA_DOUBLE ? static_cast<const double*>(a)[ai]
                                         : static_cast<double>(static_cast<const float*>(a)[ai]);
    }
    if (type == CUDNN_DATA_DOUBLE)
      blend<double>(acc, k.a(type), k.b(type), c);
    else
      blend<float>(acc, k.a(type), k.b(type), c);
  });
  return CUDNN_STATUS_SUCCESS;
}
