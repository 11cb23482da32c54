// Launcher detection and the choice of communicator (see distributed.h). The MPI and NCCL
// communicators are in comm_mpi.cpp and comm_nccl.cpp, compiled when the build has them.
#include "pipeline/dist/distributed.h"

#include <algorithm>
#include <cstdlib>

#include "engine/error.h"

namespace lits {

namespace {
bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}
}  // namespace

std::string mpi_launcher() {
  if (env_set("OMPI_COMM_WORLD_SIZE")) return "mpirun (OpenMPI)";
  if (env_set("PMIX_RANK")) return "PMIx";
  if (env_set("PMI_SIZE") || env_set("PMI_RANK")) return "PMI (MPICH / Slurm)";
  return "";
}

int mpi_job_size() {
  if (mpi_launcher().empty()) return 1;
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"})
    if (env_set(name)) return std::max(1, std::atoi(std::getenv(name)));
  return 1;
}

bool built_with_mpi() { return LITS_HAVE_MPI != 0; }
bool built_with_nccl() { return LITS_HAVE_NCCL != 0; }

#if !LITS_HAVE_MPI
std::string mpi_library_version() { return "not built"; }
std::unique_ptr<Communicator> make_mpi_communicator() {
  LITS_THROW(
      "this lits was built without MPI (Debian: apt-get install libopenmpi-dev openmpi-bin, then "
      "reconfigure); multi-process training needs it");
}
#endif
#if !LITS_HAVE_NCCL
std::unique_ptr<Communicator> make_nccl_communicator(Device, std::unique_ptr<Communicator>) {
  LITS_THROW(
      "this lits was built without NCCL; multi-GPU training needs it (LITS_CUDA_LIB_HINTS / "
      "LITS_CUDA_INCLUDE_HINTS to where libnccl and nccl.h are)");
}
#endif

void broadcast_from_rank0(const Module& module, Communicator& comm, bool buffers_only) {
  if (!buffers_only)
    for (const Tensor& t : module.parameters()) comm.broadcast(t, 0);
  for (const auto& [name, t] : module.named_buffers()) comm.broadcast(t, 0);
}

DistributedJob start_distributed(const std::string& device_text) {
  DistributedJob job;
  const std::string launcher = mpi_launcher();
  if (launcher.empty()) {
    job.device = parse_device(device_text);
    return job;
  }
  LITS_CHECK(built_with_mpi(), "started by " << launcher
                                             << " but this lits was built without MPI: run it as a single "
                                                "process, or install libopenmpi-dev and rebuild");
  std::unique_ptr<Communicator> mpi = make_mpi_communicator();
  // The rank's place on its node picks its GPU. OpenMPI and Slurm say it; else the rank modulo GPUs.
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  if (local == nullptr) local = std::getenv("SLURM_LOCALID");
  if (local == nullptr) local = std::getenv("MPI_LOCALRANKID");
  job.local_rank = local != nullptr ? std::atoi(local) : mpi->rank();
  const Device asked = device_text == "cuda" ? Device::cuda(0) : parse_device(device_text);
  if (asked.is_cuda() && (device_text == "cuda" || device_text == "auto")) {
    const int gpus = cuda_device_count();
    LITS_CHECK(gpus > 0, "rank " << mpi->rank() << ": device " << device_text << " but no usable GPU");
    job.device = Device::cuda(job.local_rank % gpus);
  } else {
    job.device = asked;
  }
  if (mpi->size() == 1) return job;  // a one-rank job: nothing to communicate (MPI is finalised again)
  if (job.device.is_cpu()) {
    job.comm = std::move(mpi);
  } else {
    job.comm = make_nccl_communicator(job.device, std::move(mpi));
  }
  return job;
}

}  // namespace lits
