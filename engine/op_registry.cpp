// The op registry (see op_registry.h). Add a line here when adding an op.
#include "engine/op_registry.h"

#include <algorithm>

namespace lits {

const std::vector<OpInfo>& op_registry() {
  static const std::vector<OpInfo> ops = {
      {"add", true},
      {"sub", true},
      {"mul", true},
      {"div", true},
      {"scale", true},
      {"relu", true},
      {"leaky_relu", true},
      {"sigmoid", true},
      {"exp", true},
      {"log", true},
      {"softmax", true},
      {"sum", true},
      {"mean", true},
      {"sum_to", true},
      {"reshape", true},
      {"narrow", true},
      {"contiguous", true},
      {"concat", true},
      {"split", true},
      {"matmul", true},
      {"linear", true},
      {"fill", false},
      {"uniform", false},
      {"normal", false},
      {"conv2d", true},
      {"conv_transpose2d", true},
      {"batch_norm", true},
      {"all_reduce", true},
      {"group_norm", true},
      {"max_pool2d", true},
      {"upsample_nearest2x", true},
      {"dropout2d", true},
      {"global_avg_pool", true},
      {"channel_scale", true},
      {"multiclass_pwce", true},
      {"multiclass_dice", true},
      {"multiclass_combined", true},
      {"binary_pwce", true},
      {"weighted_binary_dice", true},
      {"focal_pwce", true},
      {"focal_dice", true},
      {"cross_entropy", true},
      {"dice_ce", true},
      {"adam_step", false},
  };
  return ops;
}

bool is_registered_op(const std::string& name) {
  const auto& ops = op_registry();
  return std::any_of(ops.begin(), ops.end(), [&](const OpInfo& o) { return o.name == name; });
}

}  // namespace lits
