// The UNet builder (docs/reference.md section 2). Each encoder and decoder level's conv
// repetitions are a ConvStage: Norm -> Conv3x3 (or ResBlock) -> [+ backbone skips] -> LeakyReLU
// -> Dropout2d, then optional squeeze-excitation. The encoder adds a downsampler, the decoder an
// upsampler and the skip concatenation.
#include "models/unet.h"

#include <cmath>

#include "engine/ops.h"
#include "layers/basic.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/squeeze_excite.h"

namespace lits {

namespace {

constexpr double kSlope = kUNetSlope;

std::shared_ptr<Module> make_norm(const UNetConfig& c, int64_t channels, int64_t groups, const std::string& where,
                                  Generator& gen) {
  if (c.use_batchnorm) return std::make_shared<BatchNorm2d>(channels, 0.1, kUNetBatchNormEps, gen);
  LITS_CHECK(groups >= 1 && channels % groups == 0,
             "UNet " << where << ": GroupNorm with " << groups << " groups does not divide " << channels
                     << " channels (the reference's group rule, section 2.5; use use_batchnorm or other widths)");
  return std::make_shared<GroupNorm>(groups, channels);
}

// The reference's GroupNorm group count for a level norm: c if c < 2 * base, else 2 * base.
int64_t level_groups(int64_t channels, int64_t base) { return channels < 2 * base ? channels : 2 * base; }

// block_type 'res': 1x1 reduce -> Norm -> LReLU -> 3x3 (dilated) -> Norm -> LReLU -> 1x1 expand.
class ResBlock : public Module {
 public:
  ResBlock(const UNetConfig& c, int64_t in, int64_t out, int64_t dil, const std::string& where, Generator& gen)
      : Module("ResBlock") {
    const int64_t mid = in / 4;
    LITS_CHECK(mid >= 1, "UNet " << where << ": ResBlock needs at least 4 input channels, got " << in);
    reduce_ = register_module("reduce", std::make_shared<Conv2d>(in, mid, 1, ConvParams{}, true, c.init_type, gen));
    norm1_ = register_module("norm1", make_norm(c, mid, mid / 4, where, gen));
    mid_ =
        register_module("mid", std::make_shared<Conv2d>(mid, mid, 3, ConvParams{1, dil, dil}, true, c.init_type, gen));
    norm2_ = register_module("norm2", make_norm(c, mid, mid / 4, where, gen));
    expand_ = register_module("expand", std::make_shared<Conv2d>(mid, out, 1, ConvParams{}, true, c.init_type, gen));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = leaky_relu(norm1_->forward(reduce_->forward(x)), kSlope);
    h = leaky_relu(norm2_->forward(mid_->forward(h)), kSlope);
    return expand_->forward(h);
  }

 private:
  std::shared_ptr<Module> reduce_, norm1_, mid_, norm2_, expand_;
};

}  // namespace

// The conv repetitions of one level (section 2.3/2.4).
class ConvStage : public Module {
 public:
  // `adjust`: the residual 1x1 conv exists (backbone has 'residual' and the level's width changes).
  ConvStage(const UNetConfig& c, int64_t in, int64_t out, int64_t reps, int64_t dil, int64_t group_base, bool adjust,
            const std::string& where, Generator& gen)
      : Module("ConvStage"), dense_(c.backbone == "dense_residual") {
    for (int64_t r = 0; r < reps; ++r) {
      const int64_t cr = r == 0 ? in : out;
      const std::string idx = std::to_string(r);
      norms_.push_back(register_module("norm." + idx, make_norm(c, cr, level_groups(cr, group_base), where, gen)));
      if (c.block_type == "res") {
        convs_.push_back(register_module("conv." + idx, std::make_shared<ResBlock>(c, cr, out, dil, where, gen)));
      } else {
        convs_.push_back(register_module(
            "conv." + idx, std::make_shared<Conv2d>(cr, out, 3, ConvParams{1, dil, dil}, true, c.init_type, gen)));
      }
    }
    if (adjust)
      adjust_ = register_module("adjust", std::make_shared<Conv2d>(in, out, 1, ConvParams{}, true, c.init_type, gen));
    if (c.dropout > 0.0) dropout_ = std::make_shared<Dropout2d>(c.dropout, gen);  // the run's stream: checkpointed
    if (c.se_reduction > 0.0)
      se_ = register_module("se", std::make_shared<SqueezeExcitation>(out, c.se_reduction, gen));
  }

  Tensor forward(const Tensor& input) override {
    Tensor x = input, skip_sum;
    for (size_t r = 0; r < convs_.size(); ++r) {
      const Tensor n = norms_[r]->forward(x);
      Tensor y = convs_[r]->forward(n);
      // Skips add only when the level has an adjust conv (the reference gates on its existence).
      if (adjust_) {
        const Tensor s = r == 0 ? adjust_->forward(n) : n;  // the normalised input, not the raw one
        skip_sum = skip_sum.defined() && dense_ ? add(skip_sum, s) : s;
        y = add(y, skip_sum);
      }
      x = leaky_relu(y, kSlope);
      if (dropout_) {
        dropout_->train(is_training());
        x = dropout_->forward(x);
      }
    }
    return se_ ? se_->forward(x) : x;
  }

 private:
  bool dense_;
  std::vector<std::shared_ptr<Module>> norms_, convs_;
  std::shared_ptr<Module> adjust_, se_;
  std::shared_ptr<Dropout2d> dropout_;
};

namespace {

// The upsampler with up_conv_type []: nearest x2, then a 1x1 conv.
class NearestUp : public Module {
 public:
  NearestUp(int64_t in, int64_t out, InitType init, Generator& gen) : Module("NearestUp") {
    conv_ = std::make_shared<Conv2d>(in, out, 1, ConvParams{}, true, init, gen);
    register_parameter("weight", &conv_->find("weight"));
    register_parameter("bias", &conv_->find("bias"));
  }
  Tensor forward(const Tensor& x) override { return conv_->forward(upsample_nearest2x(x)); }

 private:
  std::shared_ptr<Conv2d> conv_;
};

int64_t pow2(int64_t e) { return int64_t{1} << e; }

}  // namespace

UNet::UNet(const UNetConfig& config, Generator& gen) : Module("UNet"), config_(config) {
  config_.resolve();
  const UNetConfig& c = config_;
  const int64_t L = c.levels(), F = c.filter_start, Fu = c.filter_start_up, K = c.num_out_classes;
  const bool residual = c.backbone != "base";
  input_conv_ = register_module(
      "input.conv", std::make_shared<Conv2d>(c.channels, F, 3, ConvParams{1, 1, 1}, true, c.init_type, gen));
  input_norm_ = register_module("input.norm", make_norm(c, F, F, "input", gen));
  for (int64_t i = 0; i < L; ++i) {
    const int64_t fin = F * pow2(i), fout = F * pow2(i + 1);
    const std::string name = "enc." + std::to_string(i);
    enc_.push_back(register_module(name, std::make_shared<ConvStage>(c, fin, fout, c.structure[i], c.dilation[i], F,
                                                                     residual && fin != fout, name, gen)));
    if (c.use_conv_pool) {
      pool_.push_back(register_module(
          name + ".pool", std::make_shared<Conv2d>(fout, fout, 3, ConvParams{2, 1, 1}, true, c.init_type, gen)));
    } else {
      pool_.push_back(std::make_shared<MaxPool2d>(3, 2, 1));
    }
  }
  for (int64_t j = 0; j + 1 < L; ++j) {
    const int64_t in = j == 0 ? F * pow2(L) : Fu * pow2(L - j), out = Fu * pow2(L - 1 - j), skip = F * pow2(L - 1 - j);
    const std::string name = "dec." + std::to_string(j);
    if (c.up_conv_type.empty()) {
      up_.push_back(register_module(name + ".up", std::make_shared<NearestUp>(in, out, c.init_type, gen)));
    } else {
      const ConvParams p{c.up_conv_type[1], c.up_conv_type[2], 1};
      up_.push_back(
          register_module(name + ".up", std::make_shared<ConvTranspose2d>(in, out, c.up_conv_type[0], p, true, gen)));
    }
    // The reference's decoder indexing (section 2.3): level j uses entry L-1-j.
    dec_.push_back(register_module(
        name, std::make_shared<ConvStage>(c, out + skip, out, c.structure_up[L - 1 - j], c.dilation_up[L - 1 - j], Fu,
                                          residual && in != out, name, gen)));
  }
  if (c.use_pypool) {
    for (int64_t j = 0; j + 1 < L; ++j) {
      const int64_t width = j == 0 ? F * pow2(L) : Fu * pow2(L - j);
      const ConvParams p{pow2(L - 1 - j), pow2(L - 2 - j), 1};
      pypool_.push_back(register_module("pypool." + std::to_string(j),
                                        std::make_shared<ConvTranspose2d>(width, 1, pow2(L - j), p, true, gen)));
    }
  }
  if (c.use_auxiliary_inputs) {
    for (int64_t j = 0; j + 1 < L; ++j) {
      const int64_t in = j == 0 ? F * pow2(L) : Fu * pow2(L - j);
      aux_.push_back(register_module("aux." + std::to_string(j),
                                     std::make_shared<Conv2d>(in, K, 1, ConvParams{}, true, c.init_type, gen)));
    }
  }
  const int64_t head_in = 2 * Fu + (c.use_pypool ? L - 1 : 0);
  output_ = register_module("output", std::make_shared<Conv2d>(head_in, K, 1, ConvParams{}, true, c.init_type, gen));
}

void UNet::check_input(const Tensor& x) const {
  const int64_t L = config_.levels(), m = pow2(L - 1);
  LITS_CHECK(x.defined() && x.ndim() == 4 && x.shape()[1] == config_.channels,
             "UNet: input " << x.str() << " (expected [N, " << config_.channels << ", H, W])");
  LITS_CHECK(x.shape()[2] % m == 0 && x.shape()[3] % m == 0,
             "UNet: input " << x.str() << ": H and W must be divisible by 2^(levels-1) = " << m
                            << " (run_padded pads other sizes)");
}

int64_t unet_size_divisor(const UNetConfig& config) {
  UNetConfig c = config;
  c.resolve();
  return pow2(c.levels() - 1);
}

BatchNormAffine batch_norm_affine(Module& net, const std::string& prefix) {
  const std::vector<double> g = net.find(prefix + ".weight").to_vector(), b = net.find(prefix + ".bias").to_vector(),
                            mean = net.find(prefix + ".running_mean").to_vector(),
                            var = net.find(prefix + ".running_var").to_vector();
  BatchNormAffine a;
  for (size_t i = 0; i < g.size(); ++i) {
    const double s = g[i] / std::sqrt(var[i] + kUNetBatchNormEps);
    a.scale.push_back(s);
    a.shift.push_back(b[i] - mean[i] * s);
  }
  return a;
}

int64_t padded_extent(int64_t n, int64_t divisor) { return (n + divisor - 1) / divisor * divisor; }

Tensor pad_to_multiple(const Tensor& x, int64_t divisor, double fill) {
  LITS_CHECK(x.defined() && x.ndim() == 4 && divisor >= 1,
             "pad_to_multiple: input " << x.str() << ", divisor " << divisor);
  const Shape& s = x.shape();
  const int64_t hp = padded_extent(s[2], divisor), wp = padded_extent(s[3], divisor);
  Tensor y = x;
  if (hp > s[2]) y = concat({y, Tensor::full({s[0], s[1], hp - s[2], s[3]}, fill, x.dtype(), x.device())}, 2);
  if (wp > s[3]) y = concat({y, Tensor::full({s[0], s[1], hp, wp - s[3]}, fill, x.dtype(), x.device())}, 3);
  return y;
}

Tensor crop_to(const Tensor& x, int64_t height, int64_t width) {
  LITS_CHECK(x.defined() && x.ndim() == 4 && height <= x.shape()[2] && width <= x.shape()[3],
             "crop_to: " << height << " x " << width << " of " << x.str());
  if (height == x.shape()[2] && width == x.shape()[3]) return x;
  return contiguous(narrow(narrow(x, 2, 0, height), 3, 0, width));
}

UNetOutput UNet::run_padded(const Tensor& input, double fill) {
  LITS_CHECK(input.defined() && input.ndim() == 4, "UNet: input " << input.str() << " (expected [N, C, H, W])");
  const int64_t h = input.shape()[2], w = input.shape()[3];
  UNetOutput out = run(pad_to_multiple(input, size_divisor(), fill));
  out.out = crop_to(out.out, h, w);
  for (size_t k = 0; k < out.aux.size(); ++k) {
    const int64_t f = pow2(static_cast<int64_t>(k) + 1);
    out.aux[k] = crop_to(out.aux[k], (h + f - 1) / f, (w + f - 1) / f);
  }
  return out;
}

UNetOutput UNet::run(const Tensor& input) {
  check_input(input);
  const UNetConfig& c = config_;
  const int64_t L = c.levels();
  auto head = [&](const Tensor& z) {
    if (c.output_logits) return z;
    return c.num_out_classes > 1 ? softmax(z) : sigmoid(z);
  };
  Tensor x = leaky_relu(input_norm_->forward(input_conv_->forward(input)), kSlope);
  std::vector<Tensor> skips;
  for (int64_t i = 0; i < L; ++i) {
    const Tensor level = enc_[i]->forward(x);
    const Tensor pooled = pool_[i]->forward(level);  // the bottleneck's pooled output is discarded
    if (i + 1 < L) {
      skips.push_back(level);
      x = pooled;
    } else {
      x = level;
    }
  }
  std::vector<Tensor> pp{x}, aux;
  for (int64_t j = 0; j + 1 < L; ++j) {
    if (!aux_.empty() && is_training()) aux.push_back(head(aux_[j]->forward(x)));
    x = dec_[j]->forward(concat({up_[j]->forward(x), skips[L - 2 - j]}, 1));
    if (!pypool_.empty() && j + 2 < L) pp.push_back(x);
  }
  if (!pypool_.empty()) {
    std::vector<Tensor> parts{x};
    for (size_t j = 0; j < pypool_.size(); ++j) parts.push_back(pypool_[j]->forward(pp[j]));
    x = concat(parts, 1);
  }
  UNetOutput out;
  out.out = head(output_->forward(x));
  out.aux.assign(aux.rbegin(), aux.rend());  // aux[0] the finest (H/2)
  return out;
}

std::vector<LevelShape> unet_level_shapes(const UNetConfig& config, int64_t H, int64_t W) {
  UNetConfig c = config;
  c.resolve();
  const int64_t L = c.levels(), m = pow2(L - 1), F = c.filter_start, Fu = c.filter_start_up;
  LITS_CHECK(H > 0 && W > 0 && H % m == 0 && W % m == 0,
             "UNet: size " << H << " x " << W << " must be divisible by 2^(levels-1) = " << m);
  std::vector<LevelShape> out{{"input", F, H, W}};
  for (int64_t i = 0; i < L; ++i) out.push_back({"enc." + std::to_string(i), F * pow2(i + 1), H >> i, W >> i});
  for (int64_t j = 0; j + 1 < L; ++j)
    out.push_back({"dec." + std::to_string(j), Fu * pow2(L - 1 - j), H >> (L - 2 - j), W >> (L - 2 - j)});
  out.push_back({"output", c.num_out_classes, H, W});
  return out;
}

double unet_macs_per_slice(const UNetConfig& config, int64_t H, int64_t W) {
  unet_level_shapes(config, H, W);  // checks the size
  UNetConfig c = config;
  c.resolve();
  const int64_t L = c.levels(), F = c.filter_start, Fu = c.filter_start_up, K = c.num_out_classes;
  auto conv = [](double cin, double cout, double k, double pixels) { return cin * cout * k * k * pixels; };
  auto stage = [&](int64_t in, int64_t out, int64_t reps, double px, bool adjust) {
    double m = 0;
    for (int64_t r = 0; r < reps; ++r) {
      const int64_t cr = r == 0 ? in : out;
      if (c.block_type == "res") {
        m += conv(cr, cr / 4, 1, px) + conv(cr / 4, cr / 4, 3, px) + conv(cr / 4, out, 1, px);
      } else {
        m += conv(cr, out, 3, px);
      }
    }
    if (adjust) m += conv(in, out, 1, px);
    if (c.se_reduction > 0) m += 2.0 * out * std::floor(out * c.se_reduction);
    return m;
  };
  const bool residual = c.backbone != "base";
  double macs = conv(c.channels, F, 3, static_cast<double>(H * W));
  for (int64_t i = 0; i < L; ++i) {
    const int64_t fin = F * pow2(i), fout = F * pow2(i + 1);
    const double px = static_cast<double>((H >> i) * (W >> i));
    macs += stage(fin, fout, c.structure[i], px, residual && fin != fout);
    if (c.use_conv_pool) macs += conv(fout, fout, 3, static_cast<double>(((H >> i) + 1) / 2 * (((W >> i) + 1) / 2)));
  }
  for (int64_t j = 0; j + 1 < L; ++j) {
    const int64_t in = j == 0 ? F * pow2(L) : Fu * pow2(L - j), out = Fu * pow2(L - 1 - j), skip = F * pow2(L - 1 - j);
    const double in_px = static_cast<double>((H >> (L - 1 - j)) * (W >> (L - 1 - j)));
    const double px = 4 * in_px;
    macs +=
        c.up_conv_type.empty() ? conv(in, out, 1, px) : conv(in, out, static_cast<double>(c.up_conv_type[0]), in_px);
    macs += stage(out + skip, out, c.structure_up[L - 1 - j], px, residual && in != out);
    if (c.use_pypool) {
      const int64_t width = j == 0 ? F * pow2(L) : Fu * pow2(L - j);
      macs += conv(width, 1, static_cast<double>(pow2(L - j)), in_px);
    }
  }
  macs += conv(2 * Fu + (c.use_pypool ? L - 1 : 0), K, 1, static_cast<double>(H * W));
  return macs;
}

}  // namespace lits
