// Loss input checks (see loss_common.h).
#include "engine/ops/loss_common.h"

#include <limits>

#include "engine/cuda_graph.h"
#include "engine/ops/dispatch.h"
#include "kernels/loss_common.h"

namespace lits {

void check_loss_inputs(const char* op, const Tensor& p, const Tensor& target, const Tensor& weightmap, int64_t min_k,
                       int64_t max_k, int64_t classes) {
  check_float_input(op, p, "output");
  LITS_CHECK(p.ndim() == 4, op << ": output " << p.str() << " (expected [B, K, H, W])");
  const int64_t K = p.shape()[1];
  LITS_CHECK(
      K >= min_k && K <= max_k,
      op << ": output " << p.str() << " has " << K << " channel(s); this loss expects "
         << (min_k == max_k                                 ? std::to_string(min_k)
             : max_k == std::numeric_limits<int64_t>::max() ? ">= " + std::to_string(min_k)
                                                            : std::to_string(min_k) + " to " + std::to_string(max_k))
         << (min_k >= 2 ? " (a multiclass loss needs one channel per class)" : " (a single sigmoid channel)"));
  const Shape pixels{p.shape()[0], p.shape()[2], p.shape()[3]};
  LITS_CHECK(target.defined() && !target.is_released() && target.dtype() == DType::kInt64 && target.shape() == pixels &&
                 target.device() == p.device(),
             op << ": target " << target.str() << " for output " << p.str() << " (expected int64" << pixels.str()
                << " class indices on " << p.device().str() << ")");
  if (weightmap.defined()) {
    check_float_input(op, weightmap, "weightmap");
    LITS_CHECK(weightmap.shape() == pixels && weightmap.dtype() == p.dtype() && weightmap.device() == p.device(),
               op << ": weightmap " << weightmap.str() << " for output " << p.str() << " (expected "
                  << dtype_name(p.dtype()) << pixels.str() << " on " << p.device().str() << ")");
  }
  if (classes == 0) classes = K;
  const Tensor t = dense(target);
  int64_t bad = 0, first = 0;
  if (t.device().is_cpu()) {
    bad = kernels::count_invalid_targets_cpu(t.data<int64_t>(), t.numel(), classes, &first);
  } else if (!cuda::capturing()) {  // a captured step's targets are checked on the host (cuda_graph.h)
    LITS_CUDA_ONLY(op, t.device(),
                   kernels::count_invalid_targets_cuda(t.data<int64_t>(), t.numel(), classes, &bad, &first, stream));
  }
  LITS_CHECK(bad == 0, op << ": target " << target.str() << " has " << bad << " value(s) outside [0, " << classes
                          << "), e.g. " << first << " (output " << p.str() << ")");
}

std::vector<double> class_values(const char* op, const char* what, const std::vector<double>& values, int64_t K) {
  if (values.empty()) return std::vector<double>(static_cast<size_t>(K), 1.0);
  LITS_CHECK(static_cast<int64_t>(values.size()) == K,
             op << ": " << what << " has " << values.size() << " entries for " << K << " classes");
  return values;
}

}  // namespace lits
