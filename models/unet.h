// The reference's configurable 2-D UNet (docs/reference.md section 2), every option included,
// with its parameter layout: the unused bottleneck downsampler is built (its weights exist, its
// output is discarded), so parameter counts match the reference exactly.
//
// State-dict names (stable, documented in docs/models.md):
//   input.conv.*, input.norm.*                       the input conv and its norm
//   enc.<i>.norm.<r>.*, enc.<i>.conv.<r>.*           encoder level i, repetition r (pre-norm)
//   enc.<i>.conv.<r>.{reduce,norm1,mid,norm2,expand}.*   the same with block_type 'res'
//   enc.<i>.adjust.*, enc.<i>.se.fc{1,2}.*, enc.<i>.pool.*   residual 1x1, squeeze-excitation, conv pool
//   dec.<j>.up.*, dec.<j>.norm.<r>.*, dec.<j>.conv.<r>.*, dec.<j>.adjust.*, dec.<j>.se.*   decoder level j
//   pypool.<j>.*, aux.<j>.*, output.*                pypool heads, deep-supervision heads, output conv
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"
#include "models/unet_config.h"

namespace lits {

class ConvStage;

// Every activation of the reference is LeakyReLU(0.05); every BatchNorm has eps 1e-5.
constexpr double kUNetSlope = 0.05;
constexpr double kUNetBatchNormEps = 1e-5;

struct UNetOutput {
  Tensor out;               // [N, K, H, W] probabilities (or logits when the loss takes logits)
  std::vector<Tensor> aux;  // training mode with auxiliary heads: aux[k] at H / 2^(k+1)
};

struct LevelShape {
  std::string name;  // "input", "enc.0", ..., "dec.0", ..., "output"
  int64_t channels, height, width;
};

// The padding every caller of the network shares (validation, inference, export): H and W of an input must
// be multiples of the size divisor 2^(L-1); other slice sizes are padded at the bottom and right to the next
// multiple, run, and the output cropped back, so no caller restates the rule.
int64_t unet_size_divisor(const UNetConfig& config);
// The smallest multiple of `divisor` that is >= n.
int64_t padded_extent(int64_t n, int64_t divisor);
// `x` [N, C, H, W] padded at the bottom and right with `fill` to multiples of `divisor` (any device and
// dtype, differentiable); `x` itself when it already fits.
Tensor pad_to_multiple(const Tensor& x, int64_t divisor, double fill);
// The top-left height x width of `x` [N, C, H, W], contiguous; `x` itself when it is that size.
Tensor crop_to(const Tensor& x, int64_t height, int64_t width);

// The eval-mode BatchNorm `prefix` of `net` (its state-dict name) as y = x * scale + shift per channel,
// computed in double: what the fused path and the ONNX export fold into convolutions.
struct BatchNormAffine {
  std::vector<double> scale, shift;
};
BatchNormAffine batch_norm_affine(Module& net, const std::string& prefix);

// Output shape of every level for an H x W input (checks divisibility by 2^(L-1)).
std::vector<LevelShape> unet_level_shapes(const UNetConfig& config, int64_t height, int64_t width);
// Multiply-accumulates of one forward pass on an H x W slice, evaluation mode (no auxiliary heads;
// the discarded bottleneck downsampler included, as the reference's count).
double unet_macs_per_slice(const UNetConfig& config, int64_t height, int64_t width);

class UNet : public Module {
 public:
  // `gen` initialises the weights and then draws the dropout masks, so it must outlive the network; its
  // (seed, offset) is what a checkpoint saves.
  explicit UNet(const UNetConfig& config, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return run(x).out; }
  UNetOutput run(const Tensor& x);
  // run() on an input of any H x W: padded with `fill` (the input value of air) to the size divisor, the
  // outputs cropped back (auxiliary outputs to their own fraction of H x W, rounded up).
  UNetOutput run_padded(const Tensor& x, double fill);
  const UNetConfig& config() const { return config_; }
  int64_t size_divisor() const { return unet_size_divisor(config_); }

  std::vector<LevelShape> level_shapes(int64_t height, int64_t width) const {
    return unet_level_shapes(config_, height, width);
  }
  double macs_per_slice(int64_t height, int64_t width) const { return unet_macs_per_slice(config_, height, width); }
  // Checks that an input fits: 4 dims, `channels` channels, H and W divisible by 2^(L-1).
  void check_input(const Tensor& x) const;

 private:
  UNetConfig config_;
  std::shared_ptr<Module> input_conv_, input_norm_;
  std::vector<std::shared_ptr<ConvStage>> enc_, dec_;
  std::vector<std::shared_ptr<Module>> pool_, up_, pypool_, aux_;
  std::shared_ptr<Module> output_;
};

}  // namespace lits
