// A block of device memory owned by one or more tensors (views share it).
#pragma once

#include <cstdint>

#include "engine/allocator.h"
#include "engine/device.h"

namespace lits {

class Storage {
 public:
  Storage(Device device, int64_t bytes) : device_(device), bytes_(bytes), data_(device_allocate(device, bytes)) {}
  // Host memory, page-locked (see pinned_allocate).
  struct Pinned {};
  Storage(Pinned, int64_t bytes) : bytes_(bytes), pinned_(true), data_(pinned_allocate(bytes)) {}
  ~Storage() {
    if (pinned_) {
      pinned_deallocate(data_, bytes_);
    } else {
      device_deallocate(device_, data_, bytes_);
    }
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

 private:
  Device device_;
  int64_t bytes_;
  bool pinned_ = false;
  void* data_;
};

}  // namespace lits
