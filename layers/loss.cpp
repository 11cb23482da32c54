// Loss selection and deep supervision.
#include "layers/loss.h"

namespace lits {

namespace {
struct Entry {
  const char* name;
  LossType type;
};
constexpr Entry kLosses[] = {
    {"multiclass_pwce", LossType::kMulticlassPwce},
    {"multiclass_dice", LossType::kMulticlassDice},
    {"multiclass_combined", LossType::kMulticlassCombined},
    {"binary_pwce", LossType::kBinaryPwce},
    {"weighted_binary_dice", LossType::kWeightedBinaryDice},
    {"focal_pwce", LossType::kFocalPwce},
    {"focal_dice", LossType::kFocalDice},
    {"cross_entropy", LossType::kCrossEntropy},
    {"dice_ce", LossType::kDiceCe},
};
}  // namespace

LossType parse_loss_type(const std::string& name) {
  for (const Entry& e : kLosses)
    if (name == e.name) return e.type;
  std::string known;
  for (const Entry& e : kLosses) known += (known.empty() ? "" : ", ") + std::string(e.name);
  LITS_CHECK(name != "binary_dice",
             "loss_func 'binary_dice' is unusable in the reference (its selector raises "
             "NotImplementedError); use weighted_binary_dice. Accepted: "
                 << known);
  LITS_THROW("loss_func '" << name << "': expected one of " << known);
}

const char* loss_type_name(LossType type) {
  for (const Entry& e : kLosses)
    if (e.type == type) return e.name;
  return "?";
}

int64_t loss_output_channels(LossType type, int64_t classes) {
  return type == LossType::kBinaryPwce || type == LossType::kWeightedBinaryDice ? 1 : classes;
}

bool loss_takes_logits(LossType type) { return type == LossType::kCrossEntropy || type == LossType::kDiceCe; }

bool loss_uses_weightmap(LossType type) { return type != LossType::kMulticlassDice && type != LossType::kFocalDice; }

Tensor compute_loss(LossType type, const Tensor& output, const Tensor& target, const Tensor& weightmap,
                    const LossOptions& o) {
  switch (type) {
    case LossType::kMulticlassPwce: return multiclass_pwce(output, target, weightmap, o);
    case LossType::kMulticlassDice: return multiclass_dice(output, target, o);
    case LossType::kMulticlassCombined: return multiclass_combined(output, target, weightmap, o);
    case LossType::kBinaryPwce: return binary_pwce(output, target, weightmap, o);
    case LossType::kWeightedBinaryDice: return weighted_binary_dice(output, target, weightmap, o);
    case LossType::kFocalPwce: return focal_pwce(output, target, weightmap, o);
    case LossType::kFocalDice: return focal_dice(output, target, o);
    case LossType::kCrossEntropy: return cross_entropy(output, target, weightmap, o);
    case LossType::kDiceCe: return dice_ce(output, target, weightmap, o);
  }
  LITS_THROW("compute_loss: unknown loss type");
}

Tensor downsample_nearest(const Tensor& t, int64_t factor) {
  LITS_CHECK(t.defined() && t.ndim() == 3, "downsample_nearest: " << t.str() << " (expected [B, H, W])");
  LITS_CHECK(factor >= 1 && t.shape()[1] % factor == 0 && t.shape()[2] % factor == 0,
             "downsample_nearest: " << t.str() << " by " << factor
                                    << " (H and W must be divisible by the factor, as the UNet's input size is by "
                                       "2^(levels-1))");
  if (factor == 1) return t;
  const Shape st = t.strides();
  // Output (r, c) reads input (factor r + factor/2, factor c + factor/2), as skimage's order-0 resize does
  // (docs/reference.md section 5.3 step 6).
  const int64_t half = factor / 2;
  const Tensor view = make_view(t, {t.shape()[0], t.shape()[1] / factor, t.shape()[2] / factor},
                                {st[0], st[1] * factor, st[2] * factor}, t.offset() + half * (st[1] + st[2]));
  return view.clone();
}

Tensor deep_supervision_loss(LossType type, const Tensor& main, const std::vector<Tensor>& aux, const Tensor& target,
                             const Tensor& weightmap, const LossOptions& o) {
  const Tensor w = loss_uses_weightmap(type) ? weightmap : Tensor();
  Tensor total = compute_loss(type, main, target, w, o);
  for (size_t k = 0; k < aux.size(); ++k) {
    const int64_t factor = int64_t{2} << k;  // aux[k] is at 1 / 2^(k+1) of the main resolution
    LITS_CHECK(aux[k].ndim() == 4 && aux[k].shape()[2] * factor == main.shape()[2] &&
                   aux[k].shape()[3] * factor == main.shape()[3],
               "deep supervision: aux[" << k << "] " << aux[k].str() << " for output " << main.str() << " (expected 1/"
                                        << factor << " of its height and width)");
    const Tensor wk = w.defined() ? downsample_nearest(w, factor) : Tensor();
    total = add(total, scale(compute_loss(type, aux[k], downsample_nearest(target, factor), wk, o),
                             1.0 / static_cast<double>(k + 1)));
  }
  return total;
}

}  // namespace lits
