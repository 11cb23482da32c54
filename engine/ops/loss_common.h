// Input checks shared by the loss ops (engine/ops/loss*.cpp).
#pragma once

#include "engine/ops.h"

namespace lits {

// p: [B, K, H, W] float; target: [B, H, W] int64 on p's device with values in [0, classes);
// weightmap: undefined or [B, H, W] of p's dtype and device. `min_k` / `max_k` bound K (a
// multiclass loss needs K >= 2, a binary one K == 1). `classes` is the target range: 0 means K
// (multiclass losses), 2 for binary ones. Throws lits::Error naming the op, the shapes and the offending value.
void check_loss_inputs(const char* op, const Tensor& p, const Tensor& target, const Tensor& weightmap, int64_t min_k,
                       int64_t max_k, int64_t classes);

// Per-class weights from options: `values` (empty: all 1) must have K entries.
std::vector<double> class_values(const char* op, const char* what, const std::vector<double>& values, int64_t K);

}  // namespace lits
