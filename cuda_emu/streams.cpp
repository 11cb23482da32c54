// Streams and events that run late (streams.h). Each stream keeps a queue of work in the order it
// was put there; every piece has a place in one global order, so "before this point" means the
// same on every stream. Work runs on the host thread that waits for it, one stream's pieces in
// their order. The legacy default stream (nullptr) keeps CUDA's rule against blocking streams:
// its work waits for theirs that came before, and theirs for its (streams created with
// cudaStreamNonBlocking, as the project's are, are not ordered against it).
#include "cuda_emu/streams.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"

struct CUstream_st {
  unsigned flags = 0;
  int device = 0;
  bool legacy = false;
  std::mutex m;  // guards `queue`
  std::deque<std::pair<uint64_t, std::function<void()>>> queue;
  std::recursive_mutex running;                // held while this stream's work runs, so it runs in order
  std::shared_ptr<lits_emu::Capture> capture;  // set while the stream captures (guarded by m)
};

struct CUevent_st {
  unsigned flags = 0;
  cudaStream_t stream = nullptr;  // where it was last recorded (null: never)
  uint64_t position = 0;          // its place there: done once the stream has run past it
};

namespace lits_emu {
namespace {

// CUDA blocks a launch when about a thousand are pending; here the oldest work then runs.
constexpr size_t kQueueDepth = 1024;

std::atomic<uint64_t> g_position{1};
thread_local int t_device = 0;

std::mutex g_streams_mutex;
std::vector<CUstream_st*> g_streams;  // every live stream, the legacy ones included

CUstream_st* legacy_stream(int device) {
  static CUstream_st* const streams = [] {
    auto* s = new CUstream_st[kMaxDevices];  // never freed: work may run at exit
    std::lock_guard lock(g_streams_mutex);
    for (int d = 0; d < kMaxDevices; ++d) {
      s[d].device = d;
      s[d].legacy = true;
      g_streams.push_back(&s[d]);
    }
    return s;
  }();
  return &streams[device];
}

CUstream_st* resolve(cudaStream_t s) { return s ? s : legacy_stream(t_device); }

// A stream an event was recorded on may have been destroyed since (its work ran first).
bool still_live(CUstream_st* s) {
  const CUstream_st* first = legacy_stream(0);
  return (s >= first && s < first + kMaxDevices) || live_handle(s);
}

std::vector<CUstream_st*> streams_of(int device) {
  legacy_stream(0);  // the legacy streams are registered first
  std::lock_guard lock(g_streams_mutex);
  std::vector<CUstream_st*> out;
  for (CUstream_st* s : g_streams)
    if (s->device == device) out.push_back(s);
  return out;
}

void drain_stream(CUstream_st* st, uint64_t until) {
  std::lock_guard running(st->running);
  for (;;) {
    std::function<void()> work;
    uint64_t position = 0;
    {
      std::lock_guard lock(st->m);
      if (st->queue.empty() || st->queue.front().first >= until) return;
      position = st->queue.front().first;
      work = std::move(st->queue.front().second);
      st->queue.pop_front();
    }
    // The legacy stream and the blocking streams of its device wait for each other's earlier work.
    if (st->legacy) {
      for (CUstream_st* other : streams_of(st->device))
        if (!other->legacy && !(other->flags & cudaStreamNonBlocking)) drain_stream(other, position);
    } else if (!(st->flags & cudaStreamNonBlocking)) {
      drain_stream(legacy_stream(st->device), position);
    }
    work();
  }
}

}  // namespace

int current_device() { return t_device; }
int device_count() { return settings().devices; }

uint64_t enqueue(cudaStream_t s, std::function<void()> work) {
  CUstream_st* st = resolve(s);
  uint64_t position = 0;
  size_t pending = 0;
  // The legacy stream synchronises with every blocking stream: using it while capturing is an error.
  if (st->legacy && thread_is_capturing()) invalidate_thread_captures();
  {
    std::lock_guard lock(st->m);
    if (st->capture) {  // recorded for the graph, not run
      std::lock_guard cl(st->capture->m);
      st->capture->nodes.push_back(std::move(work));
      return 0;
    }
    position = g_position++;
    st->queue.emplace_back(position, std::move(work));
    pending = st->queue.size();
  }
  if (pending > kQueueDepth) drain_stream(st, position);
  return position;
}

void drain(cudaStream_t s, uint64_t until) { drain_stream(resolve(s), until); }

void drain_device(int device) {
  for (CUstream_st* s : streams_of(device)) drain_stream(s, UINT64_MAX);
}

int stream_device(cudaStream_t s) {
  if (s == nullptr) return t_device;
  return live_handle(s) ? s->device : -1;
}

bool stream_valid(cudaStream_t s) { return s == nullptr || live_handle(s); }

void set_capture(cudaStream_t s, std::shared_ptr<Capture> c) {
  CUstream_st* st = resolve(s);
  std::lock_guard lock(st->m);
  st->capture = std::move(c);
}

std::shared_ptr<Capture> capture_of(cudaStream_t s) {
  CUstream_st* st = resolve(s);
  std::lock_guard lock(st->m);
  return st->capture;
}

}  // namespace lits_emu

namespace {

cudaError_t fail(cudaError_t e) {
  lits_emu::set_last_error(e);
  return e;
}

bool event_valid(cudaEvent_t e) { return lits_emu::live_handle(e); }

}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue);
  *count = lits_emu::device_count();
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue);
  *device = lits_emu::t_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= lits_emu::device_count()) return fail(cudaErrorInvalidDevice);
  lits_emu::t_device = device;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  lits_emu::drain_device(lits_emu::t_device);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  if (!s) return fail(cudaErrorInvalidValue);
  auto* st = new CUstream_st;
  st->flags = flags;
  st->device = lits_emu::t_device;
  lits_emu::register_handle(st, typeid(CUstream_st));
  std::lock_guard lock(lits_emu::g_streams_mutex);
  lits_emu::g_streams.push_back(st);
  *s = st;
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (s == nullptr || !lits_emu::live_handle(s)) return fail(cudaErrorInvalidResourceHandle);
  lits_emu::drain_stream(s, UINT64_MAX);  // its work still completes, as on a GPU
  {
    std::lock_guard lock(lits_emu::g_streams_mutex);
    auto& all = lits_emu::g_streams;
    all.erase(std::remove(all.begin(), all.end(), s), all.end());
  }
  lits_emu::unregister_handle(s, typeid(CUstream_st));
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = lits_emu::check_unsafe_call()) return fail(e);
  lits_emu::drain(s);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  if (!e) return fail(cudaErrorInvalidValue);
  *e = lits_emu::make_handle(CUevent_st{flags, nullptr, 0});
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  return lits_emu::drop_handle(e) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!event_valid(e) || !lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  // Event nodes (fork and join of captured streams) are not emulated: the project captures one stream.
  if (lits_emu::capture_of(s)) return fail(lits_emu::unsupported_in_capture(s));
  e->stream = lits_emu::resolve(s);
  e->position = lits_emu::enqueue(s, [] {});
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!event_valid(e)) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t err = lits_emu::check_unsafe_call()) return fail(err);
  if (e->stream && lits_emu::still_live(e->stream)) lits_emu::drain_stream(e->stream, e->position + 1);
  return cudaSuccess;
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  if (!event_valid(e) || !lits_emu::stream_valid(s)) return fail(cudaErrorInvalidResourceHandle);
  if (lits_emu::capture_of(s)) return fail(lits_emu::unsupported_in_capture(s));  // see cudaEventRecord
  if (e->stream == nullptr) return cudaSuccess;                                   // never recorded: nothing to wait for
  // The wait is taken now: a later record of the same event does not move it.
  cudaStream_t recorded = e->stream;
  const uint64_t position = e->position;
  lits_emu::enqueue(s, [recorded, position] {
    if (lits_emu::still_live(recorded)) lits_emu::drain_stream(recorded, position + 1);
  });
  return cudaSuccess;
}
