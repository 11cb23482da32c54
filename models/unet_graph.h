// A network's inference forward as CUDA graphs (docs/gpu-fast-path.md, "CUDA graphs"): one graph per
// input shape, captured on the second batch of that shape (the first runs uncaptured: cuDNN's algorithm
// choice and the workspace happen there) and replayed from the third on. The input is copied into a
// tensor that outlives the graph. For eval mode without gradients (BatchNorm running statistics, no
// dropout); the network's weights may change between runs (they are read in place).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "engine/cuda_graph.h"
#include "models/unet.h"

namespace lits {

class GraphedForward {
 public:
  // `net` in eval mode on a CUDA device; `capture` false runs every batch uncaptured (the reference path).
  explicit GraphedForward(UNet& net, bool capture = true);
  // net.run_padded(x, fill).out for x on any device; the result is valid until the next run.
  Tensor run(const Tensor& x, double fill);
  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }

 private:
  struct Entry {
    int64_t runs = 0;
    Tensor input, output;
    std::unique_ptr<cuda::Graph> graph;
  };
  UNet& net_;
  Device device_;
  bool capture_;
  std::map<std::vector<int64_t>, Entry> entries_;  // by input shape
  int64_t captures_ = 0, replays_ = 0;
};

}  // namespace lits
