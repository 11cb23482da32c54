// Setup -> UNetConfig, with the reference's defaults and checks.
#include "models/unet_config.h"

#include "engine/error.h"
#include "layers/loss.h"

namespace lits {

void UNetConfig::resolve() {
  const int64_t L = levels();
  LITS_CHECK(L >= 3, "structure " << L << " levels: the UNet needs at least 3 (the reference's decoder indexing "
                                  << "requires it)");
  for (int64_t r : structure) LITS_CHECK(r >= 1, "structure: repetitions must be >= 1, got " << r);
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
}

UNetConfig unet_config_from(const Setup& s) {
  UNetConfig c;
  auto ints = [&](const char* key, std::vector<int64_t>* out) {
    if (const Value* v = s.find(key)) *out = v->as_int_list(key);
  };
  ints("structure", &c.structure);
  ints("structure_up", &c.structure_up);
  ints("dilation", &c.dilation);
  ints("dilation_up", &c.dilation_up);
  ints("up_conv_type", &c.up_conv_type);
  if (const Value* v = s.find("filter_start")) c.filter_start = v->as_int("filter_start");
  c.filter_start_up = c.filter_start;
  if (const Value* v = s.find("filter_start_up")) c.filter_start_up = v->as_int("filter_start_up");
  if (const Value* v = s.find("channels")) c.channels = v->as_int("channels");
  if (const Value* v = s.find("backbone")) c.backbone = v->as_string("backbone");
  if (const Value* v = s.find("block_type")) c.block_type = v->as_string("block_type");
  if (const Value* v = s.find("use_conv_pool")) c.use_conv_pool = v->as_bool("use_conv_pool");
  if (const Value* v = s.find("use_pypool")) c.use_pypool = v->as_bool("use_pypool");
  if (const Value* v = s.find("use_auxiliary_inputs")) c.use_auxiliary_inputs = v->as_bool("use_auxiliary_inputs");
  if (const Value* v = s.find("se_reduction")) c.se_reduction = v->as_double("se_reduction");
  if (const Value* v = s.find("use_batchnorm")) c.use_batchnorm = v->as_bool("use_batchnorm");
  if (const Value* v = s.find("dropout")) c.dropout = v->as_double("dropout");
  if (const Value* v = s.find("init_type")) c.init_type = parse_init_type(v->as_string("init_type"));
  int64_t classes = 2;
  if (const Value* v = s.find("num_classes")) classes = v->as_int("num_classes");
  LossType loss = LossType::kMulticlassPwce;
  if (const Value* v = s.find("loss_func")) loss = parse_loss_type(v->as_string("loss_func"));
  c.num_out_classes = loss_output_channels(loss, classes);
  c.output_logits = loss_takes_logits(loss);
  c.resolve();
  return c;
}

}  // namespace lits
