// Data-parallel jobs: how a process learns it is one rank of several, and the communicators that connect
// the ranks (engine/comm.h's interface):
// - MPI (OpenMPI, MPICH, ...) for CPU ranks; collectives run in order on one communication thread, so
//   gradient reductions overlap the rest of the backward pass;
// - NCCL for one GPU per rank, its unique id broadcast over MPI (or made locally for a one-rank job);
//   collectives run on their own CUDA stream, ordered against the compute stream by events.
// A process that no MPI launcher started never touches MPI: a single-process run needs no MPI at all.
#pragma once

#include <memory>
#include <string>

#include "engine/comm.h"
#include "engine/device.h"
#include "layers/module.h"

namespace lits {

// The launcher that started this process ("mpirun (OpenMPI)", "PMI (MPICH / Slurm)", "PMIx"), from the
// environment it sets; empty when none did.
std::string mpi_launcher();
// The number of ranks the launcher says the job has (OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_NTASKS under
// PMIx); 1 when no launcher started this process or it does not say.
int mpi_job_size();

bool built_with_mpi();
bool built_with_nccl();
// "Open MPI v4.1.4, ..." (first line of MPI_Get_library_version; needs no MPI_Init), or "not built".
std::string mpi_library_version();

struct DistributedJob {
  std::unique_ptr<Communicator> comm;  // null for a single process
  Device device;                       // this rank's device
  int local_rank = 0;                  // rank among the ranks on this node (picks the GPU)
};

// Starts this process's part of a job for `device_text` ("cpu", "cuda", "cuda:N", "auto"). Not started by
// an MPI launcher, or an MPI job of one rank: no communicator, the device as parsed. Otherwise MPI is
// initialised; CPU ranks get an MPI communicator, CUDA ranks the GPU local_rank % GPUs ("cuda" / "auto")
// or the one named, and an NCCL communicator over it. Throws lits::Error when this build lacks MPI or
// NCCL for the job asked.
DistributedJob start_distributed(const std::string& device_text);

// Rank 0's buffers (BatchNorm running statistics), and its parameters unless `buffers_only`, into every
// rank's copy of `module`.
void broadcast_from_rank0(const Module& module, Communicator& comm, bool buffers_only = false);

// An MPI communicator over all ranks (initialises MPI; finalises it when destroyed).
std::unique_ptr<Communicator> make_mpi_communicator();
// An NCCL communicator on `device` (a GPU) for the ranks of `bootstrap`, which it keeps (its broadcast
// carries the NCCL unique id; its abort ends the job).
std::unique_ptr<Communicator> make_nccl_communicator(Device device, std::unique_ptr<Communicator> bootstrap);

}  // namespace lits
