// Worker threads, the ordered bounded queue and batch assembly (see loader.h).
#include "pipeline/data/loader.h"

#include <algorithm>

#include "engine/error.h"

namespace lits {

Loader::Loader(const Dataset& dataset, int64_t epoch, const LoaderOptions& options)
    : dataset_(dataset), epoch_(epoch), options_(options) {
  LITS_CHECK(options.batch_size >= 1, "loader: batch size " << options.batch_size << " (expected 1 or more)");
  LITS_CHECK(options.threads >= 0, "loader: threads " << options.threads << " (expected 0 or more)");
  LITS_CHECK(options.prefetch >= 1, "loader: prefetch " << options.prefetch << " (expected 1 or more)");
  LITS_CHECK(options.shards >= 1 && options.shard >= 0 && options.shard < options.shards,
             "loader: shard " << options.shard << " of " << options.shards);
  samples_ = dataset.epoch_samples(epoch);
  const int64_t n = static_cast<int64_t>(samples_.size());
  LITS_CHECK(options.first_sample >= 0 && options.first_sample <= n,
             "loader: first sample " << options.first_sample << " of an epoch of " << n << " samples");
  const int64_t global = options.batch_size * options.shards, left = n - options.first_sample;
  batches_ = options.drop_last ? left / global : (left + global - 1) / global;
  first_step_ = options.first_sample / global;
  next_take_ = next_give_ = 0;
  for (int t = 0; t < options.threads; ++t) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  room_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void Loader::work() {
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_.wait(lock, [&] { return stop_ || next_take_ >= batches_ || next_take_ < next_give_ + options_.prefetch; });
      if (stop_ || next_take_ >= batches_) return;
      index = next_take_++;
    }
    Slot slot;
    try {
      slot.batch = make_batch(index);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (slot.error) stop_ = true;  // the epoch cannot complete; batches already started still finish
      done_.emplace(index, std::move(slot));
    }
    ready_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (error_) std::rethrow_exception(error_);  // a failed epoch stays failed
  if (next_give_ >= batches_) return std::nullopt;
  const int64_t index = next_give_;
  if (workers_.empty()) {
    lock.unlock();
    try {
      Batch b = make_batch(index);
      ++next_give_;
      return b;
    } catch (...) {
      error_ = std::current_exception();
      throw;
    }
  }
  ready_.wait(lock, [&] { return done_.count(index) != 0 || (stop_ && next_take_ <= index); });
  auto it = done_.find(index);
  LITS_CHECK(it != done_.end(), "loader: epoch " << epoch_ << " stopped before batch " << index
                                                 << " (an earlier worker error was already reported)");
  Slot slot = std::move(it->second);
  done_.erase(it);
  if (slot.error) {
    error_ = slot.error;
    std::rethrow_exception(error_);
  }
  ++next_give_;
  lock.unlock();
  room_.notify_all();
  return std::move(slot.batch);
}

Batch Loader::make_batch(int64_t index) const {
  const int64_t n = static_cast<int64_t>(samples_.size());
  const int64_t global = options_.batch_size * options_.shards;
  const int64_t step_first = options_.first_sample + index * global, step_count = std::min(global, n - step_first);
  const int64_t first = step_first + options_.shard * step_count / options_.shards;
  const int64_t count = step_first + (options_.shard + 1) * step_count / options_.shards - first;
  const DatasetOptions& o = dataset_.options();
  Batch b;
  b.epoch = epoch_;
  b.index = first_step_ + index;
  b.first = first;
  b.step_samples = step_count;
  if (count == 0) return b;
  const auto [h, w] = dataset_.sample_size(samples_[static_cast<size_t>(first)]);
  auto alloc = [&](const Shape& shape, DType dtype) {
    return options_.pin_memory ? Tensor::empty_pinned(shape, dtype) : Tensor::empty(shape, dtype);
  };
  b.input = alloc({count, o.channels, h, w}, DType::kFloat32);
  b.target = alloc({count, h, w}, DType::kInt64);
  if (o.weightmaps) b.weightmap = alloc({count, h, w}, DType::kFloat32);
  if (o.task == DataTask::kLesion) b.liver = alloc({count, h, w}, DType::kUInt8);
  for (int64_t s = 0; s < count; ++s) {
    const int64_t position = first + s;
    const SampleRef ref = samples_[static_cast<size_t>(position)];
    const std::string& name = dataset_.store().entry(ref.volume).name;
    try {
      const auto size = dataset_.sample_size(ref);
      LITS_CHECK(size.first == h && size.second == w,
                 "its " << size.first << " x " << size.second << " slices do not batch with the " << h << " x " << w
                        << " of the batch's first sample (use batch size 1 for mixed sizes)");
      SampleBuffers out;
      out.input = b.input.data<float>() + s * o.channels * h * w;
      out.target = b.target.data<int64_t>() + s * h * w;
      if (b.weightmap.defined()) out.weightmap = b.weightmap.data<float>() + s * h * w;
      if (b.liver.defined()) out.liver = b.liver.data<uint8_t>() + s * h * w;
      dataset_.make_sample(ref, epoch_, position, out);
    } catch (const std::exception& ex) {
      LITS_THROW("loader: " << name << " slice " << ref.slice << " (epoch " << epoch_ << ", batch " << b.index
                            << ", sample " << position << "): " << ex.what());
    }
    b.samples.push_back(ref);
    b.last_of_volume.push_back(position + 1 >= n || samples_[static_cast<size_t>(position + 1)].volume != ref.volume);
  }
  return b;
}

}  // namespace lits
