// The benchmarks quote PyTorch: when tools/compare_torch.py has written its results file
// (compare_torch.json in the current folder, or the file LITS_COMPARE_TORCH names), `lits bench train`
// and `lits bench infer` print the PyTorch time it measured for the same case (setup, batch, size,
// device) and the ratio to the time they just measured. The ratio is across two runs, so it moves with
// the machine's load; compare_torch.py's own table, taken side by side, is the figure to quote.
#pragma once

#include <string>

namespace lits::tools {

// `kind`: "train" or "infer". Prints nothing when there is no results file or no matching case.
void print_torch_ratio(const std::string& kind, const std::string& setup, long long batch, long long size,
                       const std::string& device, double lits_ms);

}  // namespace lits::tools
