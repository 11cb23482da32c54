// Gradient averaging for data-parallel training (docs/architecture.md section 12): the parameters' gradients are
// packed into buckets of about `bucket_bytes`, in reverse registration order (the order the backward pass
// finishes them), and each bucket's all-reduce starts as soon as its last gradient is complete, while the
// backward pass goes on. Buckets start in index order on every rank, so the collectives match. Parameters
// that got no gradient in the first step (an unused layer) are moved to the last buckets after it.
//
// The trainer scales each rank's loss by (its samples / the step's samples) before backward, so the plain
// sum over ranks is the gradient of the whole global batch's mean loss.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/comm.h"
#include "engine/tensor.h"

namespace lits {

class GradReducer {
 public:
  // `params`: leaves that require grad, all of one dtype on comm.device().
  GradReducer(std::vector<Tensor> params, Communicator& comm, int64_t bucket_bytes = int64_t{25} << 20);
  ~GradReducer();  // removes the hooks
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Call before each backward pass (after zero_grad).
  void begin();
  // Call after the backward pass, or instead of it on a rank that had no samples in the step: reduces the
  // rest, waits, and leaves each parameter with the sum over ranks of its gradient; undefined where no rank
  // had one (so the optimizer skips it everywhere, as it would on one rank).
  void finish();

  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets whose reduction started during the last backward pass (before finish()).
  int64_t overlapped() const { return overlapped_; }

 private:
  struct Bucket {
    std::vector<size_t> params;
    std::vector<int64_t> offsets;  // element offset of each parameter in `flat`
    Tensor flat;
    size_t pending = 0;
    int64_t ticket = -1;
  };
  // Buckets over params_ in `order`; order[used..] (parameters without gradients) start new buckets.
  void layout(const std::vector<size_t>& order, size_t used);
  void on_ready(size_t param);
  void launch(size_t bucket);
  Tensor view(const Bucket& b, size_t k) const;

  std::vector<Tensor> params_;
  Communicator& comm_;
  int64_t bucket_bytes_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> ready_;
  size_t next_launch_ = 0;
  int64_t overlapped_ = 0;
  bool active_ = false;
  bool learned_ = false;  // the first finish() has moved parameters without gradients to the end
};

}  // namespace lits
