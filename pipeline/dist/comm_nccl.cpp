// The NCCL communicator (see distributed.h): one GPU per rank. Collectives run on a stream of their own;
// an event orders each after the compute stream's work that produced its data, and wait() makes the
// compute stream wait for it, so the host never blocks and reductions overlap the backward pass on the GPU.
// All collectives go through that one stream, in issue order (NCCL needs the same order on every rank).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "engine/cuda_check.h"
#include "engine/cuda_context.h"
#include "engine/error.h"
#include "pipeline/dist/distributed.h"

namespace lits {

namespace {

#define LITS_NCCL_CHECK(statement)                                                                                \
  do {                                                                                                            \
    const ncclResult_t lits_nccl_rc_ = (statement);                                                               \
    LITS_CHECK(lits_nccl_rc_ == ncclSuccess, "NCCL: " #statement " failed: " << ncclGetErrorString(lits_nccl_rc_) \
                                                                             << " (" << ncclGetLastError(nullptr) \
                                                                             << ")");                             \
  } while (0)

ncclDataType_t nccl_type(const Tensor& t) {
  switch (t.dtype()) {
    case DType::kFloat32: return ncclFloat32;
    case DType::kFloat64: return ncclFloat64;
    case DType::kInt64: return ncclInt64;
    case DType::kUInt8: return ncclUint8;
    default: break;
  }
  LITS_THROW("NCCL: no datatype for " << t.str());
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(Device device, std::unique_ptr<Communicator> bootstrap)
      : device_(device), bootstrap_(std::move(bootstrap)) {
    LITS_CHECK(device.is_cuda(), "NCCL communicator on " << device.str() << " (expected a GPU)");
    LITS_CHECK(bootstrap_ != nullptr && bootstrap_->device().is_cpu(),
               "NCCL communicator: the bootstrap must be a host communicator");
    ncclUniqueId id{};
    if (bootstrap_->rank() == 0) LITS_NCCL_CHECK(ncclGetUniqueId(&id));
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
    bootstrap_->broadcast_host(bytes, 0);
    LITS_CHECK(bytes.size() == sizeof id, "NCCL unique id of " << bytes.size() << " bytes from rank 0");
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(&id));
    cuda::context(device_);  // sets the device, creates the compute stream
    LITS_CUDA_CHECK(cudaSetDevice(device_.index));
    LITS_NCCL_CHECK(ncclCommInitRank(&comm_, bootstrap_->size(), id, bootstrap_->rank()));
    LITS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }

  ~NcclCommunicator() override {
    cudaSetDevice(device_.index);
    if (stream_ != nullptr) cudaStreamSynchronize(stream_);
    for (auto& [ticket, event] : pending_) cudaEventDestroy(event);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  int rank() const override { return bootstrap_->rank(); }
  int size() const override { return bootstrap_->size(); }
  Device device() const override { return device_; }
  std::string name() const override { return "nccl"; }

  int64_t all_reduce_async(const Tensor& t) override {
    check_tensor(t, "all_reduce");
    LITS_CHECK(t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64,
               "all_reduce of " << t.str() << " (expected float32 or float64)");
    after_compute();
    LITS_NCCL_CHECK(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), ncclSum,
                                  comm_, stream_));
    return record();
  }

  void wait(int64_t ticket) override {
    auto it = pending_.find(ticket);
    if (it == pending_.end()) return;  // already waited for
    LITS_CUDA_CHECK(cudaStreamWaitEvent(compute(), it->second, 0));
    LITS_CUDA_CHECK(cudaEventDestroy(it->second));
    pending_.erase(it);
  }

  void broadcast(const Tensor& t, int root) override {
    check_tensor(t, "broadcast");
    LITS_CHECK(root >= 0 && root < size(), "broadcast from rank " << root << " in a job of " << size() << " ranks");
    after_compute();
    LITS_NCCL_CHECK(
        ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t), root, comm_, stream_));
    wait(record());
  }

  void barrier() override {
    const Tensor one = Tensor::ones({1}, DType::kFloat32, device_);
    all_reduce(one);
    LITS_CUDA_CHECK(cudaStreamSynchronize(compute()));
  }

  [[noreturn]] void abort(const std::string& why) override {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
    bootstrap_->abort(why);
    std::_Exit(1);  // not reached: the bootstrap's abort ends the process
  }

 private:
  cudaStream_t compute() const { return cuda::context(device_).stream(); }

  void check_tensor(const Tensor& t, const char* what) const {
    LITS_CHECK(t.device() == device_ && t.is_contiguous(),
               "NCCL " << what << " of " << t.str() << " (expected a contiguous tensor on " << device_.str() << ")");
  }

  // The communication stream waits for everything queued on the compute stream so far.
  void after_compute() {
    LITS_CUDA_CHECK(cudaSetDevice(device_.index));
    cudaEvent_t ready = nullptr;
    LITS_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    LITS_CUDA_CHECK(cudaEventRecord(ready, compute()));
    LITS_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready, 0));
    LITS_CUDA_CHECK(cudaEventDestroy(ready));  // destruction is deferred until the event completes
  }

  int64_t record() {
    cudaEvent_t done = nullptr;
    LITS_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    LITS_CUDA_CHECK(cudaEventRecord(done, stream_));
    pending_[++issued_] = done;
    return issued_;
  }

  Device device_;
  std::unique_ptr<Communicator> bootstrap_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::map<int64_t, cudaEvent_t> pending_;
  int64_t issued_ = 0;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device device, std::unique_ptr<Communicator> bootstrap) {
  return std::make_unique<NcclCommunicator>(device, std::move(bootstrap));
}

}  // namespace lits
