// The fused inference path (see unet_fused.h): UNet::run's evaluation-mode graph, level by level,
// written as a kernels::InferProgram. Weights are read by their state-dict names (unet.h), strides
// and paddings come from the config as the builder in unet.cpp sets them.
#include "models/unet_fused.h"

#include <omp.h>

#include <cmath>
#include <sstream>

#include "engine/error.h"
#include "engine/ops.h"
#include "kernels/infer_program.h"

namespace lits {

namespace {

using kernels::InferConv;
using kernels::InferPost;
using kernels::InferProgram;

int64_t pow2(int64_t e) { return int64_t{1} << e; }

std::vector<float> values(const Tensor& t) {
  const float* p = t.data<float>();
  return {p, p + t.numel()};
}

struct Affine {
  std::vector<float> scale, shift;
};

class Builder {
 public:
  Builder(UNet& net, InferProgram& p) : net_(net), c_(net.config()), p_(p) {}

  // UNet::run in evaluation mode; returns the logits' value.
  int build() {
    const int64_t L = c_.levels(), F = c_.filter_start, Fu = c_.filter_start_up;
    const bool residual = c_.backbone != "base";
    // The input conv with its norm folded, LeakyReLU, then encoder 0's first norm.
    InferConv in = conv("input.conv", 1, 1, 1);
    fold(in, bn("input.norm"));
    int n = p_.conv(0, std::move(in), {leaky(), affine(bn("enc.0.norm.0"))});
    std::vector<int> skips;
    int x = -1;
    for (int64_t i = 0; i < L; ++i) {
      const std::string name = "enc." + std::to_string(i);
      const int64_t fin = F * pow2(i), fout = F * pow2(i + 1);
      const int level = stage(name, n, c_.structure[i], c_.dilation[i], residual && fin != fout);
      if (i + 1 == L) {  // the bottleneck's downsampler is built but its output is discarded
        x = level;
        break;
      }
      skips.push_back(level);
      const Affine next = bn("enc." + std::to_string(i + 1) + ".norm.0");
      if (c_.use_conv_pool) {
        InferConv pool = conv(name + ".pool", 2, 1, 1);
        fold(pool, next);
        n = p_.conv(level, std::move(pool));
      } else {
        n = p_.max_pool(level, 3, 2, 1);
        p_.affine_in_place(n, next.scale, next.shift);
      }
    }
    std::vector<int> pyramid{x};
    for (int64_t j = 0; j + 1 < L; ++j) {
      const std::string name = "dec." + std::to_string(j);
      const int64_t in_ch = j == 0 ? F * pow2(L) : Fu * pow2(L - j), out_ch = Fu * pow2(L - 1 - j);
      int up;
      if (c_.up_conv_type.empty()) {
        up = p_.conv(p_.upsample_nearest2x(x), conv(name + ".up", 1, 0, 1));
      } else {
        up = p_.conv(x, conv(name + ".up", c_.up_conv_type[1], c_.up_conv_type[2], 1, true));
      }
      const int cat = p_.concat({up, skips[static_cast<size_t>(L - 2 - j)]});
      const Affine norm = bn(name + ".norm.0");
      p_.affine_in_place(cat, norm.scale, norm.shift);
      x = stage(name, cat, c_.structure_up[L - 1 - j], c_.dilation_up[L - 1 - j], residual && in_ch != out_ch);
      if (c_.use_pypool && j + 2 < L) pyramid.push_back(x);
    }
    if (c_.use_pypool) {
      std::vector<int> parts{x};
      for (int64_t j = 0; j + 1 < L; ++j)
        parts.push_back(p_.conv(pyramid[static_cast<size_t>(j)],
                                conv("pypool." + std::to_string(j), pow2(L - 1 - j), pow2(L - 2 - j), 1, true)));
      x = p_.concat(parts);
    }
    return p_.conv(x, conv("output", 1, 0, 1));
  }

 private:
  // One ConvStage (unet.cpp) from its first norm's output `n`; returns its last LeakyReLU's value.
  int stage(const std::string& name, int n, int64_t reps, int64_t dil, bool adjust) {
    const bool dense = c_.backbone == "dense_residual";
    const int first = n;
    int skip_sum = -1;
    for (int64_t r = 0; r < reps; ++r) {
      std::vector<InferPost> posts;
      if (adjust) {  // the skip adds the normalised input, through the 1x1 adjust conv at r = 0
        const int s = r == 0 ? p_.conv(first, conv(name + ".adjust", 1, 0, 1)) : n;
        skip_sum = skip_sum >= 0 && dense ? p_.add(skip_sum, s) : s;
        InferPost add;
        add.kind = InferPost::Kind::kAdd;
        add.value = skip_sum;
        posts.push_back(add);
      }
      posts.push_back(leaky());
      if (r + 1 < reps) posts.push_back(affine(bn(name + ".norm." + std::to_string(r + 1))));
      n = block(name + ".conv." + std::to_string(r), n, dil, std::move(posts));
    }
    return n;
  }

  // A repetition's conv: a 3x3, or the 'res' block (1x1 reduce, 3x3, 1x1 expand; its norms fold).
  int block(const std::string& name, int x, int64_t dil, std::vector<InferPost> posts) {
    if (c_.block_type != "res") return p_.conv(x, conv(name, 1, dil, dil), std::move(posts));
    InferConv reduce = conv(name + ".reduce", 1, 0, 1);
    fold(reduce, bn(name + ".norm1"));
    InferConv mid = conv(name + ".mid", 1, dil, dil);
    fold(mid, bn(name + ".norm2"));
    const int h = p_.conv(p_.conv(x, std::move(reduce), {leaky()}), std::move(mid), {leaky()});
    return p_.conv(h, conv(name + ".expand", 1, 0, 1), std::move(posts));
  }

  InferConv conv(const std::string& prefix, int64_t stride, int64_t pad, int64_t dil, bool transposed = false) {
    const Tensor& w = net_.find(prefix + ".weight");
    InferConv cv;
    cv.transposed = transposed;
    cv.out_channels = w.shape()[transposed ? 1 : 0];
    cv.kernel = w.shape()[2];
    cv.stride = stride;
    cv.pad = pad;
    cv.dilation = dil;
    cv.weight = values(w);
    cv.bias = values(net_.find(prefix + ".bias"));
    return cv;
  }

  // Evaluation-mode BatchNorm as y = x * scale + shift (computed in double, models/unet.h).
  Affine bn(const std::string& prefix) {
    const BatchNormAffine d = batch_norm_affine(net_, prefix);
    return Affine{std::vector<float>(d.scale.begin(), d.scale.end()),
                  std::vector<float>(d.shift.begin(), d.shift.end())};
  }

  // A convolution (not transposed: weight [out, in, k, k]) followed by `a`: each output channel's
  // weights and bias scaled, the shift added.
  static void fold(InferConv& cv, const Affine& a) {
    const size_t co = static_cast<size_t>(cv.out_channels), per = cv.weight.size() / co;
    for (size_t i = 0; i < cv.weight.size(); ++i) cv.weight[i] *= a.scale[i / per];
    for (size_t o = 0; o < co; ++o) cv.bias[o] = static_cast<float>(double(cv.bias[o]) * a.scale[o] + a.shift[o]);
  }

  static InferPost leaky() {
    InferPost p;
    p.kind = InferPost::Kind::kLeakyRelu;
    p.slope = static_cast<float>(kUNetSlope);
    return p;
  }
  static InferPost affine(Affine a) {
    InferPost p;
    p.kind = InferPost::Kind::kAffine;
    p.scale = std::move(a.scale);
    p.shift = std::move(a.shift);
    return p;
  }

  UNet& net_;
  const UNetConfig& c_;
  InferProgram& p_;
};

}  // namespace

std::string FusedUNet::unsupported(const UNet& net) {
  const UNetConfig& c = net.config();
  if (!InferProgram::available()) return "this build has no oneDNN";
  if (!c.use_batchnorm) return "the network uses GroupNorm";
  if (c.se_reduction > 0.0) return "the network uses squeeze-excitation";
  for (const auto& [name, t] : net.named_parameters())
    if (t.dtype() != DType::kFloat32 || t.device() != Device::cpu())
      return "parameter " + name + " is " + t.str() + " (the fused path is float32 on the CPU)";
  for (const auto& [name, t] : net.named_buffers())
    if (t.dtype() != DType::kFloat32 || t.device() != Device::cpu())
      return "buffer " + name + " is " + t.str() + " (the fused path is float32 on the CPU)";
  return {};
}

FusedUNet::FusedUNet(UNet& net) : net_(net) {
  const std::string why = unsupported(net);
  LITS_CHECK(why.empty(), "fused inference: " << why);
}

FusedUNet::~FusedUNet() = default;

kernels::InferProgram& FusedUNet::program(int64_t n, int64_t h, int64_t w) {
  const std::array<int64_t, 4> key{n, h, w, omp_get_max_threads()};
  for (Entry& e : programs_)
    if (e.key == key) return *e.program;
  auto p = std::make_unique<InferProgram>(n, net_.config().channels, h, w);
  p->finish(Builder(net_, *p).build());
  if (programs_.size() == 2) programs_.erase(programs_.begin());
  programs_.push_back(Entry{key, std::move(p)});
  return *programs_.back().program;
}

Tensor FusedUNet::run(const Tensor& input) {
  net_.check_input(input);
  LITS_CHECK(input.dtype() == DType::kFloat32 && input.device() == Device::cpu(),
             "fused inference: input " << input.str() << " (expected float32 on the CPU)");
  const Tensor x = input.is_contiguous() ? input : input.clone();
  const Shape& s = x.shape();
  InferProgram& p = program(s[0], s[2], s[3]);
  Tensor logits = Tensor::empty({s[0], net_.config().num_out_classes, s[2], s[3]});
  p.run(x.data<float>(), logits.data<float>());
  const UNetConfig& c = net_.config();
  if (c.output_logits) return logits;
  return c.num_out_classes > 1 ? softmax(logits) : sigmoid(logits);
}

std::string FusedUNet::describe(int64_t n, int64_t h, int64_t w) {
  const InferProgram& p = program(n, h, w);
  std::ostringstream o;
  o << "fused program: activation arena " << p.arena_bytes() / (1 << 20) << " MiB, weights "
    << p.weight_bytes() / (1 << 20) << " MiB, " << p.reorder_count() << " reorders\n"
    << p.describe();
  return o.str();
}

int64_t FusedUNet::arena_bytes(int64_t n, int64_t h, int64_t w) { return program(n, h, w).arena_bytes(); }

}  // namespace lits
