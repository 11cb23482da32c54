// CUDA graphs (docs/gpu-fast-path.md, "CUDA graphs"): a function's device work captured once on the
// device's context stream and replayed with one launch. What the capture allocates comes from a private
// memory pool that stays reserved for the graph (every replay writes there again) until it is destroyed.
// The captured function must do the same device work every time: fixed shapes, inputs copied into tensors
// that outlive the graph, no host reads of device values and no other host synchronisation (ops that
// would synchronise check cuda::capturing() and leave that to the caller).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/device.h"

namespace lits::cuda {

class Graph {
 public:
  explicit Graph(const Device& device);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Captures `work` (nothing runs on the device). Throws lits::Error naming the call the capture could not
  // take when `work` synchronises or reads device memory on the host; the graph is then left empty.
  void capture(const std::function<void()>& work);
  // Puts the captured work on the context stream (asynchronous).
  void replay();
  bool captured() const { return exec_ != nullptr; }
  const Device& device() const { return device_; }

 private:
  void destroy() noexcept;
  Device device_;
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
  int64_t pool_ = 0;       // the private pool of engine/allocator.h
};

// True while the calling thread captures a graph.
bool capturing();

}  // namespace lits::cuda
