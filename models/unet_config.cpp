// Setup -> UNetConfig, with the reference's defaults and checks.
#include "models/unet_config.h"

#include <cmath>
#include <utility>

#include "engine/error.h"
#include "layers/loss.h"

namespace lits {

void UNetConfig::resolve() {
  using Limits = UNetLimits;
  const int64_t L = levels();
  LITS_CHECK(L >= 3, "structure " << L << " levels: the UNet needs at least 3 (the reference's decoder indexing "
                                  << "requires it)");
  LITS_CHECK(L <= Limits::kMaxLevels, "structure has " << L << " levels; at most " << Limits::kMaxLevels
                                                       << " are supported (the input is downsampled 2^(levels-1) "
                                                          "times)");
  for (const auto* list : {&structure, &structure_up})
    for (int64_t r : *list)
      LITS_CHECK(r >= 1 && r <= Limits::kMaxRepetitions, (list == &structure ? "structure" : "structure_up")
                                                             << ": repetitions must be 1 to " << Limits::kMaxRepetitions
                                                             << ", got " << r);
  for (const auto& [key, f] : {std::pair{"filter_start", filter_start}, std::pair{"filter_start_up", filter_start_up}})
    LITS_CHECK(f >= 1 && f <= Limits::kMaxFilters, key << " " << f << ": expected 1 to " << Limits::kMaxFilters);
  const int64_t deepest = filter_start * (int64_t{1} << (L - 1));
  LITS_CHECK(deepest <= Limits::kMaxWidth, "filter_start " << filter_start << " with " << L
                                                           << " levels gives the deepest level " << deepest
                                                           << " channels; at most " << Limits::kMaxWidth);
  LITS_CHECK(channels <= Limits::kMaxChannels, "channels " << channels << ": at most " << Limits::kMaxChannels);
  LITS_CHECK(num_out_classes <= Limits::kMaxClasses,
             "num_classes gives " << num_out_classes << " output channels; at most " << Limits::kMaxClasses);
  for (const auto* list : {&dilation, &dilation_up, &up_conv_type})
    for (int64_t d : *list)
      LITS_CHECK(d <= Limits::kMaxDilation, (list == &up_conv_type ? "up_conv_type" : "dilation")
                                                << " entry " << d << ": at most " << Limits::kMaxDilation);
  if (structure_up.empty()) structure_up = structure;
  if (dilation.empty()) dilation.assign(static_cast<size_t>(L), 1);
  if (dilation_up.empty()) dilation_up = dilation;
  LITS_CHECK(static_cast<int64_t>(structure_up.size()) == L,
             "structure_up has " << structure_up.size() << " entries for " << L << " levels");
  LITS_CHECK(static_cast<int64_t>(dilation.size()) == L,
             "dilation has " << dilation.size() << " entries for " << L
                             << " levels (the reference's Medium preset had 5 for 6 and crashed)");
  LITS_CHECK(static_cast<int64_t>(dilation_up.size()) == L,
             "dilation_up has " << dilation_up.size() << " entries for " << L << " levels");
  for (int64_t d : dilation) LITS_CHECK(d >= 1, "dilation entries must be >= 1, got " << d);
  for (int64_t d : dilation_up) LITS_CHECK(d >= 1, "dilation_up entries must be >= 1, got " << d);
  LITS_CHECK(filter_start >= 1 && filter_start_up >= 1 && channels >= 1 && num_out_classes >= 1,
             "filter_start " << filter_start << ", filter_start_up " << filter_start_up << ", channels " << channels
                             << ", classes " << num_out_classes << ": all must be >= 1");
  LITS_CHECK(backbone == "base" || backbone == "residual" || backbone == "dense_residual",
             "backbone '" << backbone << "': expected base, residual or dense_residual");
  LITS_CHECK(
      block_type == "base" || block_type == "res",
      "block_type '" << block_type << "': expected base or res ('resX' crashes in the reference and is not supported)");
  LITS_CHECK(up_conv_type.empty() || up_conv_type.size() == 3,
             "up_conv_type has " << up_conv_type.size() << " entries: expected [kernel, stride, padding] or []");
  LITS_CHECK(dropout >= 0.0 && dropout < 1.0, "dropout " << dropout << ": expected 0 <= p < 1");
  LITS_CHECK(se_reduction >= 0.0, "se_reduction " << se_reduction << ": expected >= 0 (0 disables)");
  const double params = estimated_parameters();
  LITS_CHECK(params <= Limits::kMaxParameters, "this network would have about "
                                                   << params << " parameters; at most " << Limits::kMaxParameters
                                                   << " are supported (lower filter_start, structure or levels)");
}

double UNetConfig::estimated_parameters() const {
  // Per level: two 3x3 convolutions per repetition at the level's width, in the encoder and the decoder
  // (one more for the up-convolution), doubled for the inputs that concatenate skips (doubled again for
  // the dense backbone). Within a factor of 2 of the real count, and above it, for the presets.
  double total = 0.0;
  const double dense = backbone == "dense_residual" ? 2.0 : 1.0;
  for (int64_t l = 0; l < levels(); ++l) {
    const double w = static_cast<double>(filter_start) * std::pow(2.0, static_cast<double>(l));
    const double wu = static_cast<double>(filter_start_up) * std::pow(2.0, static_cast<double>(l));
    const double up_reps = l < static_cast<int64_t>(structure_up.size()) ? static_cast<double>(structure_up[l]) : 0.0;
    total += dense * 4.0 * 9.0 * (static_cast<double>(structure[l]) * w * w + (up_reps + 1.0) * wu * wu);
  }
  return total;
}

UNetConfig unet_config_from(const Setup& s) {
  // A key the setup does not set keeps the reference's default (unet_config.h).
  UNetConfig c;
  using Ints = std::vector<int64_t>;
  c.structure = s.get_or<Ints>("structure", c.structure);
  c.structure_up = s.get_or<Ints>("structure_up", c.structure_up);
  c.dilation = s.get_or<Ints>("dilation", c.dilation);
  c.dilation_up = s.get_or<Ints>("dilation_up", c.dilation_up);
  c.up_conv_type = s.get_or<Ints>("up_conv_type", c.up_conv_type);
  c.filter_start = s.get_or<int64_t>("filter_start", c.filter_start);
  c.filter_start_up = s.get_or<int64_t>("filter_start_up", c.filter_start);
  c.channels = s.get_or<int64_t>("channels", c.channels);
  c.backbone = s.get_or<std::string>("backbone", c.backbone);
  c.block_type = s.get_or<std::string>("block_type", c.block_type);
  c.use_conv_pool = s.get_or<bool>("use_conv_pool", c.use_conv_pool);
  c.use_pypool = s.get_or<bool>("use_pypool", c.use_pypool);
  c.use_auxiliary_inputs = s.get_or<bool>("use_auxiliary_inputs", c.use_auxiliary_inputs);
  c.se_reduction = s.get_or<double>("se_reduction", c.se_reduction);
  c.use_batchnorm = s.get_or<bool>("use_batchnorm", c.use_batchnorm);
  c.dropout = s.get_or<double>("dropout", c.dropout);
  if (s.has("init_type")) c.init_type = parse_init_type(s.get<std::string>("init_type"));
  const int64_t classes = s.get_or<int64_t>("num_classes", 2);
  const LossType loss = parse_loss_type(s.get_or<std::string>("loss_func", "multiclass_pwce"));
  c.num_out_classes = loss_output_channels(loss, classes);
  c.output_logits = loss_takes_logits(loss);
  c.resolve();
  return c;
}

}  // namespace lits
