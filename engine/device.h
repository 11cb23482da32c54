// Where a tensor lives. The only way across devices is Tensor::to(device).
#pragma once

#include <string>

namespace lits {

enum class DeviceType : uint8_t { kCpu, kCuda };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  static Device cpu() { return Device{}; }
  static Device cuda(int index = 0) { return Device{DeviceType::kCuda, index}; }
  bool is_cpu() const { return type == DeviceType::kCpu; }
  bool is_cuda() const { return type == DeviceType::kCuda; }
  bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0" (what parse_device reads back)
  // For people: str(), and for a GPU of the emulated-device build "cuda:0 (emulated device, on the CPU)".
  std::string label() const;
};

// True in a build whose CUDA backend runs on the emulated device (LITS_CUDA_EMU=ON): its "GPUs"
// are the CPU, so its timings say nothing about a GPU.
constexpr bool cuda_emulated() { return LITS_CUDA_EMULATED != 0; }

// Number of usable CUDA devices: 0 in a build without CUDA, and 0 when the runtime reports any
// error (no driver, no device): a CUDA build runs on the CPU on machines without a GPU.
int cuda_device_count();
bool cuda_available();
// Why there is no usable GPU (empty when there is one): shown in skips and error messages.
std::string cuda_unavailable_reason();

// Parses "cpu", "cuda", "cuda:N" or "auto" (the first GPU when there is one, else the CPU).
// Throws lits::Error naming the text and the accepted forms; "cuda" without a GPU is an error.
Device parse_device(const std::string& text);

}  // namespace lits
