// A block of device memory owned by one or more tensors (views share it).
#pragma once

#include <cstdint>

#include "engine/allocator.h"
#include "engine/device.h"

namespace lits {

class Storage {
 public:
  Storage(Device device, int64_t bytes) : device_(device), bytes_(bytes), data_(device_allocate(device, bytes)) {}
  ~Storage() { device_deallocate(device_, data_, bytes_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Device device_;
  int64_t bytes_;
  void* data_;
};

}  // namespace lits
