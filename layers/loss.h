// Loss selection by the reference's names (setup files' `loss_func`) and deep supervision:
//   total = main + sum_k 1/(k+1) * loss(aux[k], target_k, weightmap_k)
// where aux[k] has 1/2^(k+1) of the main resolution and target_k / weightmap_k are the target and
// weightmap sampled with plain nearest neighbour: with s = 2^(k+1), pixel [s i + s/2, s j + s/2], the
// pixel the reference's skimage resize (order 0, no anti-aliasing) picks.
#pragma once

#include <string>
#include <vector>

#include "engine/ops.h"

namespace lits {

enum class LossType {
  kMulticlassPwce,
  kMulticlassDice,
  kMulticlassCombined,
  kBinaryPwce,
  kWeightedBinaryDice,
  kFocalPwce,
  kFocalDice,
  kCrossEntropy,  // beyond the reference: CE on logits
  kDiceCe,        // beyond the reference: nnU-Net's Dice + CE on logits
};

// The reference's names plus "cross_entropy" and "dice_ce"; "binary_dice" (unusable in the
// reference) and anything else are errors listing the accepted names.
LossType parse_loss_type(const std::string& name);
const char* loss_type_name(LossType type);
// Output channels the network needs for `classes` classes: 1 for the binary losses.
int64_t loss_output_channels(LossType type, int64_t classes);
// True for the losses that take raw logits (the network then ends without softmax).
bool loss_takes_logits(LossType type);
bool loss_uses_weightmap(LossType type);

Tensor compute_loss(LossType type, const Tensor& output, const Tensor& target, const Tensor& weightmap,
                    const LossOptions& options);

// t [B, H, W] (int64 target or float weightmap) sampled at every `factor`-th pixel from
// (factor/2, factor/2); H and W must be divisible by `factor`.
Tensor downsample_nearest(const Tensor& t, int64_t factor);

Tensor deep_supervision_loss(LossType type, const Tensor& main, const std::vector<Tensor>& aux, const Tensor& target,
                             const Tensor& weightmap, const LossOptions& options);

}  // namespace lits
