// The MPI communicator (see distributed.h): host tensors; every collective runs on one communication
// thread in the order it was issued (MPI_THREAD_SERIALIZED), so an asynchronous all-reduce proceeds while
// the caller computes, and the order is the same on every rank because the callers' order is.
#include <mpi.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/error.h"
#include "pipeline/dist/distributed.h"

namespace lits {

namespace {

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  LITS_THROW("MPI " << what << " failed: " << std::string(text, static_cast<size_t>(len)));
}

MPI_Datatype mpi_type(const Tensor& t) {
  switch (t.dtype()) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kInt64: return MPI_INT64_T;
    case DType::kUInt8: return MPI_UINT8_T;
    default: break;
  }
  LITS_THROW("MPI: no datatype for " << t.str());
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    LITS_CHECK(!initialized, "MPI is already initialised in this process (one MPI communicator per process)");
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // Without SERIALIZED the collectives run in the caller's thread (no overlap, same results).
    if (provided >= MPI_THREAD_SERIALIZED) worker_ = std::thread([this] { work(); });
  }

  ~MpiCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Device device() const override { return Device::cpu(); }
  std::string name() const override { return "mpi"; }

  int64_t all_reduce_async(const Tensor& t) override {
    check_tensor(t, "all_reduce");
    LITS_CHECK(t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64,
               "all_reduce of " << t.str() << " (expected float32 or float64)");
    void* data = t.data_ptr();
    const int count = static_cast<int>(t.numel());
    const MPI_Datatype type = mpi_type(t);
    return submit(
        [=] { check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, count, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce"); });
  }

  void wait(int64_t ticket) override {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return done_ >= ticket || error_; });
    if (error_) std::rethrow_exception(error_);
  }

  void broadcast(const Tensor& t, int root) override {
    check_tensor(t, "broadcast");
    LITS_CHECK(root >= 0 && root < size_, "broadcast from rank " << root << " in a job of " << size_ << " ranks");
    void* data = t.data_ptr();
    const int count = static_cast<int>(t.numel());
    const MPI_Datatype type = mpi_type(t);
    wait(submit([=] { check_mpi(MPI_Bcast(data, count, type, root, MPI_COMM_WORLD), "MPI_Bcast"); }));
  }

  void barrier() override {
    wait(submit([] { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }));
  }

  [[noreturn]] void abort(const std::string& why) override {
    std::fprintf(stderr, "lits: rank %d of %d: %s\nlits: stopping every rank of the job\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; in case an MPI does
  }

 private:
  void check_tensor(const Tensor& t, const char* what) const {
    LITS_CHECK(t.device().is_cpu() && t.is_contiguous(),
               "MPI " << what << " of " << t.str() << " (expected a contiguous CPU tensor)");
    LITS_CHECK(t.numel() <= INT32_MAX, "MPI " << what << " of " << t.numel() << " elements (at most 2^31-1)");
  }

  int64_t submit(std::function<void()> fn) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    const int64_t ticket = ++issued_;
    if (!worker_.joinable()) {
      lock.unlock();
      fn();
      lock.lock();
      done_ = ticket;
      return ticket;
    }
    queue_.emplace_back(std::move(fn));
    lock.unlock();
    wake_.notify_all();
    return ticket;
  }

  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      std::exception_ptr err;
      try {
        fn();
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (err && !error_) error_ = err;
        ++done_;
      }
      done_cv_.notify_all();
    }
  }

  int rank_ = 0, size_ = 1;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_, done_cv_;
  std::deque<std::function<void()>> queue_;
  int64_t issued_ = 0, done_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  const std::string v(text, static_cast<size_t>(len));
  return v.substr(0, v.find_first_of("\n,"));
}

}  // namespace lits
