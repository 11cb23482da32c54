// The UNet's configuration, resolved from a setup file with the reference's defaults
// (docs/reference.md sections 1.4 and 2): absent filter_start_up / structure_up / dilation /
// dilation_up take the encoder's values, the output has one sigmoid channel for the binary losses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layers/init.h"
#include "models/setup.h"

namespace lits {

struct UNetConfig {
  std::vector<int64_t> structure{3, 3, 3};  // conv repetitions per encoder level (L = size, >= 3)
  std::vector<int64_t> structure_up;        // per decoder level (reference indexing, section 2.3)
  int64_t filter_start = 32;                // F
  int64_t filter_start_up = 32;             // Fu
  int64_t channels = 3;                     // input slices
  std::vector<int64_t> dilation, dilation_up;
  std::string backbone = "base";               // base | residual | dense_residual
  std::string block_type = "base";             // base | res
  bool use_conv_pool = false;                  // stride-2 conv instead of max pooling
  std::vector<int64_t> up_conv_type{4, 2, 1};  // [k, s, p] of the transposed conv; [] = nearest x2 + 1x1
  bool use_pypool = false;
  bool use_auxiliary_inputs = false;
  double se_reduction = 0.0;
  bool use_batchnorm = true;
  double dropout = 0.2;
  InitType init_type = InitType::kHeNormal;
  int64_t num_out_classes = 2;  // 1: sigmoid output
  bool output_logits = false;   // the loss takes logits: no softmax/sigmoid at the end

  int64_t levels() const { return static_cast<int64_t>(structure.size()); }
  // Fills the reference's defaults and checks every field against the limits below; throws naming the
  // field, the value and the limit, before anything is built.
  void resolve();
  // An estimate of the parameter count from the widths and repetitions alone (above the real count for
  // the presets, within a factor of 2), for the limit.
  double estimated_parameters() const;
};

// What resolve() accepts (docs/robustness.md lists them). The presets stay far inside: the Big preset has 6
// levels, filter_start 26 and 202,842,599 parameters.
struct UNetLimits {
  static constexpr int64_t kMaxLevels = 10;       // the input is downsampled 2^(levels-1) times
  static constexpr int64_t kMaxRepetitions = 32;  // conv blocks per level
  static constexpr int64_t kMaxFilters = 1024;    // filter_start, filter_start_up
  static constexpr int64_t kMaxWidth = 16384;     // channels of the deepest level
  static constexpr int64_t kMaxChannels = 64;     // input slices
  static constexpr int64_t kMaxClasses = 256;     // output channels
  static constexpr int64_t kMaxDilation = 64;     // and the up-convolution's kernel, stride, padding
  static constexpr double kMaxParameters = 1e9;   // about 16 GB with gradients and Adam's moments
};

// From a resolved setup (Network section, plus num_classes and loss_func from Training).
UNetConfig unet_config_from(const Setup& setup);

}  // namespace lits
