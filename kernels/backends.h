// What the CPU side of this build links: reported by `lits --version` and the benchmarks.
#pragma once

#include <string>

namespace lits::kernels {

// "oneDNN 2.6.3 (cpu runtime OpenMP)" or "off (built without oneDNN)".
std::string onednn_info();

}  // namespace lits::kernels
