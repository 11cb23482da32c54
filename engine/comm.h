// Collective communication between the ranks of a data-parallel job (docs/architecture.md section 12). The
// interface lives here so that the engine's differentiable all_reduce (and with it the synchronized
// BatchNorm) can use it; the MPI and NCCL implementations are in pipeline/dist/ (distributed.h).
//
// Rules every implementation keeps:
// - All ranks issue the same collectives in the same order (the caller's job; the trainer's steps are
//   lock-step).
// - Collectives on one communicator run in the order they were issued, asynchronous ones included, so a
//   blocking call after an asynchronous one also waits for it to be done on this rank.
// - Tensors are contiguous and on device(): host memory for MPI, the rank's GPU for NCCL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace lits {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual Device device() const = 0;
  virtual std::string name() const = 0;  // "local", "mpi", "nccl"

  // Sum over all ranks, in place, of a float32 or float64 tensor. The asynchronous form returns a ticket:
  // the tensor must not be read or written until wait(ticket) returns (on NCCL: until the device stream
  // has been made to wait; host code may go on queueing work behind it).
  virtual int64_t all_reduce_async(const Tensor& t) = 0;
  virtual void wait(int64_t ticket) = 0;
  void all_reduce(const Tensor& t) { wait(all_reduce_async(t)); }
  // Rank `root`'s tensor into every rank's (same shape and dtype everywhere; any dtype).
  virtual void broadcast(const Tensor& t, int root) = 0;
  virtual void barrier() = 0;
  // Ends the whole job now (every rank), after `why` is printed on this rank: for a rank that fails while
  // the others wait in a collective. Never returns.
  [[noreturn]] virtual void abort(const std::string& why) = 0;

  // Host conveniences built on the above (staged through device() memory when it is a GPU).
  void all_reduce_host(std::vector<double>& values);
  void broadcast_host(std::string& bytes, int root);
};

// One rank on its own: collectives are no-ops. Used for single-process runs and as NCCL's bootstrap
// when there is no MPI.
class LocalCommunicator : public Communicator {
 public:
  explicit LocalCommunicator(Device device = Device::cpu()) : device_(device) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Device device() const override { return device_; }
  std::string name() const override { return "local"; }
  int64_t all_reduce_async(const Tensor& t) override;
  void wait(int64_t) override {}
  void broadcast(const Tensor& t, int root) override;
  void barrier() override {}
  [[noreturn]] void abort(const std::string& why) override;

 private:
  Device device_;
};

// Differentiable sum over ranks: forward all_reduce of a copy of x; backward all_reduce of the gradient
// (each rank's input feeds every rank's output). Synchronous. `comm` must outlive the backward pass.
Tensor all_reduce(const Tensor& x, Communicator& comm);

// BatchNorm with statistics over the whole global batch (all ranks' samples): the per-channel mean and
// biased variance from all-reduced sums; the running statistics (if defined) get the unbiased variance of
// the global batch, as BatchNorm on one rank with the whole batch would. Evaluation mode is plain
// batch_norm. Every rank must call it in the same steps with the same channel count (collectives).
// Composed of differentiable ops and all_reduce; slower than batch_norm, so used only when asked.
Tensor sync_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum, double eps, Communicator& comm);

}  // namespace lits
