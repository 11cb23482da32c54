// Device naming, parsing and GPU discovery.
#include "engine/device.h"

#include "engine/error.h"

#if LITS_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace lits {

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

std::string Device::label() const {
  return is_cuda() && cuda_emulated() ? str() + " (emulated device, on the CPU)" : str();
}

namespace {

struct CudaProbe {
  int count = 0;
  std::string reason;
};

const CudaProbe& probe() {
  static const CudaProbe result = [] {
    CudaProbe p;
#if LITS_HAVE_CUDA
    int n = 0;
    // Without a driver this is cudaErrorInsufficientDriver (35), not cudaErrorNoDevice, and n is
    // left untouched: any error means "no GPU".
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      p.reason = std::string("CUDA runtime reports ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
      cudaGetLastError();  // clear the sticky-free error so later calls start clean
      n = 0;
    } else if (n == 0) {
      p.reason = "CUDA runtime found no device";
    }
    p.count = n;
#else
    p.reason = "this build has no CUDA backend (configured with LITS_CUDA=OFF or without nvcc)";
#endif
    return p;
  }();
  return result;
}

}  // namespace

int cuda_device_count() { return probe().count; }
bool cuda_available() { return probe().count > 0; }
std::string cuda_unavailable_reason() { return probe().reason; }

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  // The emulated device is no GPU: `auto` never picks it (ask for it by name).
  if (text == "auto") return cuda_available() && !cuda_emulated() ? Device::cuda(0) : Device::cpu();
  int index = 0;
  if (text == "cuda") {
    index = 0;
  } else if (text.rfind("cuda:", 0) == 0 && text.size() > 5 &&
             text.find_first_not_of("0123456789", 5) == std::string::npos && text.size() < 10) {
    index = std::stoi(text.substr(5));
  } else {
    LITS_THROW("device '" << text << "': expected auto, cpu, cuda or cuda:N");
  }
  LITS_CHECK(cuda_available(), "device '" << text << "' requested but no GPU is usable: " << cuda_unavailable_reason());
  LITS_CHECK(index < cuda_device_count(),
             "device '" << text << "': only " << cuda_device_count() << " CUDA device(s) present");
  return Device::cuda(index);
}

}  // namespace lits
