// `lits --version`: what this binary was built with and what it finds on this machine.
#include <omp.h>

#include "engine/cuda_context.h"
#include "engine/device.h"
#include "kernels/backends.h"
#include "kernels/gemm.h"
#include "pipeline/dist/distributed.h"
#include "tools/commands.h"

namespace lits::tools {

std::string version_text() {
  std::string s = "lits 0.1.0 (lits-engine)\n";
  if (cuda_emulated())
    s += "  CUDA backend: EMULATED (built with LITS_CUDA_EMU=ON: the CUDA runtime, cuBLAS, cuDNN and NCCL calls are "
         "served on the CPU by cuda_emu/ for testing; no GPU is used and CUDA timings mean nothing)\n";
  else
    s += std::string("  CUDA backend: ") +
         (LITS_HAVE_CUDA ? "compiled (" + cuda::library_versions() + ")" : "not built") + "\n";
  if (cuda_available()) {
    for (int d = 0; d < cuda_device_count(); ++d)
      s += "  GPU cuda:" + std::to_string(d) + ": " + cuda::device_description(d) + "\n";
  } else {
    s += "  GPU: none usable (" + cuda_unavailable_reason() + "); --device auto runs on the CPU\n";
  }
  if (cuda_emulated()) s += "  --device auto runs on the CPU; --device cuda[:N] picks an emulated device\n";
  s += std::string("  CPU GEMM: ") + kernels::gemm_cpu_backend() + "\n";
  s += "  oneDNN: " + kernels::onednn_info() + "\n";
  s += "  CPU threads: " + std::to_string(omp_get_max_threads()) +
       " (lits --threads N, or OMP_NUM_THREADS, to change)\n";
  s += "  multi-process training: MPI " + (built_with_mpi() ? mpi_library_version() : std::string("not built")) +
       ", NCCL " + (built_with_nccl() ? "built" : "not built") +
       (mpi_launcher().empty() ? "" : "; started by " + mpi_launcher()) + "\n";
  s += std::string("  ONNX export (lits export): ") + (LITS_HAVE_ONNX ? "built" : "not built") + "\n";
  return s;
}

}  // namespace lits::tools
