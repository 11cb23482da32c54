// CUDA graph capture and replay (cuda_graph.h), or clear errors in builds without CUDA.
#include "engine/cuda_graph.h"

#include "engine/allocator.h"
#include "engine/cuda_context.h"
#include "engine/error.h"

#if LITS_HAVE_CUDA
#include <cuda_runtime.h>

#include "engine/cuda_check.h"
#endif

namespace lits::cuda {

namespace {
thread_local bool t_capturing = false;
}  // namespace

bool capturing() { return t_capturing; }

#if LITS_HAVE_CUDA

Graph::Graph(const Device& device) : device_(device) {
  LITS_CHECK(device.is_cuda(), "a CUDA graph needs a CUDA device, not " << device.str());
}

Graph::~Graph() { destroy(); }

void Graph::destroy() noexcept {
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
  exec_ = graph_ = nullptr;
  // The replays are over once the stream has run them: only then may the pool's blocks serve others.
  if (pool_ != 0) {
    cudaStreamSynchronize(context(device_).stream());
    detail::cuda_release_private_pool(device_.index, pool_);
    pool_ = 0;
  }
}

void Graph::capture(const std::function<void()>& work) {
  destroy();
  Context& ctx = context(device_);
  ctx.cublas();  // handles are created outside the capture (their creation synchronises)
  ctx.cudnn();
  LITS_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
  pool_ = detail::cuda_begin_private_pool(device_.index);
  // Thread-local mode: the loader's threads may allocate pinned memory meanwhile.
  LITS_CUDA_CHECK(cudaStreamBeginCapture(ctx.stream(), cudaStreamCaptureModeThreadLocal));
  t_capturing = true;
  std::string failure;
  try {
    work();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  t_capturing = false;
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(ctx.stream(), &graph);
  detail::cuda_end_private_pool(device_.index);
  graph_ = graph;
  if (failure.empty() && ended != cudaSuccess)
    failure = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(ended) +
              " (the captured work synchronised with the host or made a call a capture cannot take)";
  cudaGetLastError();
  if (failure.empty()) {
    cudaGraphExec_t exec = nullptr;
    const cudaError_t made = cudaGraphInstantiate(&exec, graph, 0);
    if (made == cudaSuccess)
      exec_ = exec;
    else
      failure = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(made);
  }
  if (!failure.empty()) {
    destroy();
    LITS_THROW("capturing a CUDA graph on " << device_.str() << ": " << failure);
  }
}

void Graph::replay() {
  LITS_CHECK(exec_ != nullptr, "replay of a CUDA graph that was not captured");
  LITS_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), context(device_).stream()));
}

#else

Graph::Graph(const Device& device) : device_(device) {
  LITS_THROW("CUDA graphs need the CUDA backend, which this build has not (" << device.str() << ")");
}
Graph::~Graph() = default;
void Graph::destroy() noexcept {}
void Graph::capture(const std::function<void()>&) { LITS_THROW("CUDA graphs need the CUDA backend"); }
void Graph::replay() { LITS_THROW("CUDA graphs need the CUDA backend"); }

#endif

}  // namespace lits::cuda
