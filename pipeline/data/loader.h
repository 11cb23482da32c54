// The threaded batch loader (docs/reference.md section 5.4): worker threads make the batches of one epoch ahead
// of the training loop into a bounded queue, and next() hands them out in order. A batch's contents depend
// only on (seed, epoch, batch number), never on the number of threads. Batches go into page-locked memory
// when asked (training on CUDA), so their upload is fast and asynchronous. An exception in a worker stops
// the epoch and is rethrown by next() with the volume and slice being made; the destructor stops and
// joins the workers, also in the middle of an epoch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/tensor.h"
#include "pipeline/data/dataset.h"

namespace lits {

struct LoaderOptions {
  int64_t batch_size = 4;
  int threads = 1;           // worker threads; 0 makes each batch inside next() (no workers)
  int64_t prefetch = 4;      // batches made ahead of the one being consumed (queue bound), at least 1
  bool pin_memory = false;   // page-locked batches (only when a CUDA device is usable; else ordinary memory)
  bool drop_last = false;    // the reference keeps the last, partial batch
  int64_t first_sample = 0;  // the epoch position to start at (resume)
  // Data parallel: `shards` ranks take turns at the epoch's sample order. Step k covers the global batch of
  // batch_size * shards samples from first_sample + k * batch_size * shards; shard `shard` takes its
  // share (batch_size each; a last, partial global batch is split as evenly as it goes). One shard with
  // batch B * N sees exactly the samples of N shards with batch B, for any N.
  int shards = 1, shard = 0;
};

struct Batch {
  int64_t epoch = 0;
  int64_t index = 0;         // step number within the epoch (counted in global batches from first_sample)
  int64_t first = 0;         // epoch position of this batch's first sample
  int64_t step_samples = 0;  // samples of the step over all shards (this batch's when unsharded)
  Tensor input;              // float32 [B, channels, h, w]
  Tensor target;             // int64 [B, h, w], 0/1
  Tensor weightmap;          // float32 [B, h, w]; undefined unless DatasetOptions::weightmaps
  Tensor liver;              // uint8 [B, h, w], the liver mask; defined for the lesion task
  std::vector<SampleRef> samples;
  std::vector<bool> last_of_volume;  // the next sample of the epoch is from another volume (or none follows)
  // A shard can get no sample in the last step of an epoch: then the tensors are undefined.
  int64_t size() const { return static_cast<int64_t>(samples.size()); }
};

class Loader {
 public:
  Loader(const Dataset& dataset, int64_t epoch, const LoaderOptions& options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches() const { return batches_; }  // steps from first_sample to the end of the epoch
  // The next batch in order, or nothing at the end of the epoch. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  Batch make_batch(int64_t index) const;
  void work();

  const Dataset& dataset_;
  int64_t epoch_;
  LoaderOptions options_;
  std::vector<SampleRef> samples_;
  int64_t batches_ = 0, first_step_ = 0;

  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::map<int64_t, Slot> done_;  // made, not yet handed out
  int64_t next_take_ = 0;         // the next batch a worker starts
  int64_t next_give_ = 0;         // the next batch next() returns
  bool stop_ = false;
  std::exception_ptr error_;  // the error next() reported; every later call reports it again
  std::vector<std::thread> workers_;
};

}  // namespace lits
