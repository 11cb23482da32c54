// NCCL on the emulated device (nccl.h). A unique id names a group; ncclCommInitRank waits until
// all its ranks (threads of this process) have joined. A collective is checked at the call and
// queued on the stream; when a rank's stream runs it, the rank waits for the others to reach the
// same collective (the n-th of each communicator), all read every rank's input, then each writes
// its own output, so in-place calls are safe. Sums run in rank order, so results are reproducible.
// Ranks that call different collectives at the same place, or one that never comes, are reported
// instead of hanging.
#include "cuda_emu/nccl.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_emu/control.h"
#include "cuda_emu/handles.h"
#include "cuda_emu/streams.h"

namespace {

constexpr char kMagic[] = "lits-emu-nccl:";
constexpr auto kPatience = std::chrono::seconds(120);

// What one collective is, so that ranks calling different ones at the same place are caught.
struct Call {
  enum Kind { kAllReduce, kBroadcast } kind;
  size_t count;
  ncclDataType_t type;
  ncclRedOp_t op;
  int root;
  bool operator==(const Call&) const = default;
  std::string str() const {
    return std::string(kind == kAllReduce ? "ncclAllReduce" : "ncclBroadcast") + " of " + std::to_string(count) +
           " elements of type " + std::to_string(type) +
           (kind == kAllReduce ? ", op " + std::to_string(op) : ", root " + std::to_string(root));
  }
};

struct Round {
  Call call{};
  std::vector<const void*> send;
  std::vector<void*> recv;
  int arrived = 0, read = 0, left = 0;
};

struct Group {
  int nranks = 0;
  std::mutex m;
  std::condition_variable cv;
  std::vector<bool> joined;
  std::map<uint64_t, Round> rounds;  // the n-th collective of every rank
};

std::mutex g_groups_mutex;
std::map<std::string, std::shared_ptr<Group>> g_groups;
std::atomic<uint64_t> g_ids{0};
thread_local std::string t_error;

ncclResult_t fail(ncclResult_t r, const std::string& why) {
  t_error = why;
  return r;
}

size_t type_size(ncclDataType_t t) {
  switch (t) {
    case ncclInt8:
    case ncclUint8: return 1;
    case ncclInt32:
    case ncclUint32:
    case ncclFloat32: return 4;
    case ncclInt64:
    case ncclUint64:
    case ncclFloat64: return 8;
    default: return 0;  // float16 and bfloat16: not emulated
  }
}

[[noreturn]] void diagnose(const std::string& what) {
  std::fprintf(stderr, "cuda-emu error: NCCL: %s\n", what.c_str());
  std::abort();
}

template <typename T>
void reduce(const Round& r, int nranks, std::vector<char>* out) {
  const size_t n = r.call.count;
  out->resize(n * sizeof(T));
  T* o = reinterpret_cast<T*>(out->data());
  std::memcpy(o, r.send[0], n * sizeof(T));
  for (int k = 1; k < nranks; ++k) {
    const T* in = static_cast<const T*>(r.send[static_cast<size_t>(k)]);
    for (size_t i = 0; i < n; ++i) {
      switch (r.call.op) {
        case ncclSum:
        case ncclAvg: o[i] = static_cast<T>(o[i] + in[i]); break;
        case ncclProd: o[i] = static_cast<T>(o[i] * in[i]); break;
        case ncclMax: o[i] = in[i] > o[i] ? in[i] : o[i]; break;
        case ncclMin: o[i] = in[i] < o[i] ? in[i] : o[i]; break;
      }
    }
  }
  if (r.call.op == ncclAvg)
    for (size_t i = 0; i < n; ++i) o[i] = static_cast<T>(o[i] / static_cast<T>(nranks));
}

void reduce_any(const Round& r, int nranks, std::vector<char>* out) {
  switch (r.call.type) {
    case ncclInt8: reduce<int8_t>(r, nranks, out); break;
    case ncclUint8: reduce<uint8_t>(r, nranks, out); break;
    case ncclInt32: reduce<int32_t>(r, nranks, out); break;
    case ncclUint32: reduce<uint32_t>(r, nranks, out); break;
    case ncclInt64: reduce<int64_t>(r, nranks, out); break;
    case ncclUint64: reduce<uint64_t>(r, nranks, out); break;
    case ncclFloat32: reduce<float>(r, nranks, out); break;
    case ncclFloat64: reduce<double>(r, nranks, out); break;
    default: diagnose("datatype " + std::to_string(r.call.type) + " reached a reduction");
  }
}

// Waits on `g.cv` until `done`, or reports the ranks that never came.
template <typename Done>
void wait_for_ranks(Group& g, std::unique_lock<std::mutex>& lock, uint64_t n, const char* stage, Done done) {
  if (!g.cv.wait_for(lock, kPatience, done))
    diagnose("collective #" + std::to_string(n) + " (" + g.rounds[n].call.str() + "): waited " +
             std::to_string(kPatience.count()) + " s for the other ranks to " + stage +
             " (a rank stopped calling collectives, or called them in another order)");
}

// One rank's part of the n-th collective, run when its stream reaches it.
void meet(const std::shared_ptr<Group>& group, int rank, uint64_t n, Call call, const void* send, void* recv) {
  Group& g = *group;
  std::unique_lock lock(g.m);
  Round& r = g.rounds[n];  // std::map: the reference stays valid while others are added
  if (r.arrived == 0) {
    r.call = call;
    r.send.assign(static_cast<size_t>(g.nranks), nullptr);
    r.recv.assign(static_cast<size_t>(g.nranks), nullptr);
  } else if (!(r.call == call)) {
    diagnose("collective #" + std::to_string(n) + ": rank " + std::to_string(rank) + " calls " + call.str() +
             ", another rank " + r.call.str());
  }
  r.send[static_cast<size_t>(rank)] = send;
  r.recv[static_cast<size_t>(rank)] = recv;
  ++r.arrived;
  g.cv.notify_all();
  wait_for_ranks(g, lock, n, "arrive", [&] { return r.arrived == g.nranks; });
  lock.unlock();
  std::vector<char> out;
  const size_t bytes = call.count * type_size(call.type);
  if (call.kind == Call::kAllReduce) {
    reduce_any(r, g.nranks, &out);
  } else {
    const char* from = static_cast<const char*>(r.send[static_cast<size_t>(call.root)]);
    out.assign(from, from + bytes);
  }
  lock.lock();
  ++r.read;
  g.cv.notify_all();
  wait_for_ranks(g, lock, n, "read their inputs", [&] { return r.read == g.nranks; });
  lock.unlock();
  if (bytes > 0) std::memcpy(recv, out.data(), bytes);
  lock.lock();
  if (++r.left == g.nranks) g.rounds.erase(n);
}

}  // namespace

struct ncclComm {
  std::shared_ptr<Group> group;
  int rank = 0;
  int device = 0;
  uint64_t issued = 0;  // collectives called so far
};

namespace {

ncclResult_t collective(Call call, const void* send, void* recv, ncclComm_t comm, cudaStream_t stream) {
  if (!lits_emu::live_handle(comm)) return fail(ncclInvalidArgument, "not a live communicator");
  if (!lits_emu::stream_valid(stream)) return fail(ncclInvalidArgument, "not a live stream");
  if (lits_emu::stream_device(stream) != comm->device)
    return fail(ncclInvalidUsage, "the stream belongs to another device than the communicator's");
  const size_t size = type_size(call.type);
  if (size == 0) return fail(ncclInvalidArgument, "datatype " + std::to_string(call.type) + " is not emulated");
  if (call.kind == Call::kAllReduce && (call.op < ncclSum || call.op > ncclAvg))
    return fail(ncclInvalidArgument, "reduction op " + std::to_string(call.op));
  if (call.kind == Call::kBroadcast && (call.root < 0 || call.root >= comm->group->nranks))
    return fail(ncclInvalidArgument, "root " + std::to_string(call.root));
  const size_t bytes = call.count * size;
  const bool reads_send = call.kind == Call::kAllReduce || call.root == comm->rank;
  if (bytes > 0 && ((reads_send && !lits_emu::is_device_range(send, bytes)) || !lits_emu::is_device_range(recv, bytes)))
    return fail(ncclInvalidArgument, "a buffer of " + std::to_string(bytes) + " bytes outside device memory");
  const uint64_t n = comm->issued++;
  lits_emu::enqueue(stream, [group = comm->group, rank = comm->rank, n, call, send, recv] {
    meet(group, rank, n, call, send, recv);
  });
  return ncclSuccess;
}

}  // namespace

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return fail(ncclInvalidArgument, "null version");
  *version = 0;  // 0: not a real NCCL
  return ncclSuccess;
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return fail(ncclInvalidArgument, "null id");
  std::memset(id->internal, 0, sizeof id->internal);
  std::snprintf(id->internal, sizeof id->internal, "%s%ld:%llu", kMagic, static_cast<long>(getpid()),
                static_cast<unsigned long long>(g_ids++));
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (!comm) return fail(ncclInvalidArgument, "null communicator pointer");
  if (nranks < 1 || rank < 0 || rank >= nranks)
    return fail(ncclInvalidArgument, "rank " + std::to_string(rank) + " of " + std::to_string(nranks));
  const std::string key(id.internal, strnlen(id.internal, sizeof id.internal));
  if (key.rfind(kMagic, 0) != 0) return fail(ncclInvalidArgument, "not an id from ncclGetUniqueId");
  const std::string pid = std::to_string(getpid()) + ":";
  if (key.compare(sizeof kMagic - 1, pid.size(), pid) != 0)
    return fail(ncclInvalidUsage,
                "the id comes from another process: the emulated NCCL joins ranks of one process (threads) only");
  std::shared_ptr<Group> group;
  {
    std::lock_guard lock(g_groups_mutex);
    auto& slot = g_groups[key];
    if (!slot) {
      slot = std::make_shared<Group>();
      slot->nranks = nranks;
      slot->joined.assign(static_cast<size_t>(nranks), false);
    }
    group = slot;
  }
  std::unique_lock lock(group->m);
  if (group->nranks != nranks)
    return fail(ncclInvalidArgument,
                "nranks " + std::to_string(nranks) + " where the group has " + std::to_string(group->nranks));
  if (group->joined[static_cast<size_t>(rank)])
    return fail(ncclInvalidUsage, "rank " + std::to_string(rank) + " joined twice");
  group->joined[static_cast<size_t>(rank)] = true;
  group->cv.notify_all();
  const auto all_joined = [&] {
    for (bool j : group->joined)
      if (!j) return false;
    return true;
  };
  if (!group->cv.wait_for(lock, kPatience, all_joined))
    return fail(ncclSystemError, "not every rank joined within " + std::to_string(kPatience.count()) + " s");
  lock.unlock();
  *comm = lits_emu::make_handle(ncclComm{group, rank, lits_emu::current_device(), 0});
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (!comm) return ncclSuccess;
  return lits_emu::drop_handle(comm) ? ncclSuccess : fail(ncclInvalidArgument, "not a live communicator");
}
ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream) {
  return collective(Call{Call::kAllReduce, count, datatype, op, 0}, sendbuff, recvbuff, comm, stream);
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t stream) {
  return collective(Call{Call::kBroadcast, count, datatype, ncclSum, root}, sendbuff, recvbuff, comm, stream);
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
  }
  return "unknown result code";
}

const char* ncclGetLastError(ncclComm_t) { return t_error.c_str(); }
