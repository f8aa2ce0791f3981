// The Slurm job this process runs in, if any, read from the environment that
// slurmstepd gives every task (and the batch script).
//
// ipcatlas measures; Slurm places. Under `srun`/`sbatch` a run records which
// job, node, partition and cluster it measured, so that the files of one job
// can be gathered and compared (`ipcatlas nodes`), and `--out` can name one
// file per node (%n, %j).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ipcatlas {

struct SlurmJob {
  std::string job_id;        // SLURM_JOB_ID
  std::string node;          // SLURMD_NODENAME: the Slurm node name, not always the host name
  std::string partition;     // SLURM_JOB_PARTITION ("" when Slurm did not say)
  std::string cluster;       // SLURM_CLUSTER_NAME ("" when Slurm did not say)
  std::string step_id;       // SLURM_STEP_ID: "" in the batch script itself
  std::string cpus_on_node;  // SLURM_CPUS_ON_NODE: the CPUs the job holds on this node
};

// Reads one environment variable (nullptr when unset); std::getenv by default,
// a map in tests.
using EnvironmentLookup = std::function<const char*(const char*)>;

// The job, when SLURM_JOB_ID and SLURMD_NODENAME are both set; nullopt otherwise.
std::optional<SlurmJob> slurm_job(const EnvironmentLookup& lookup = nullptr);

// The run context's keys: scheduler ("slurm" or "none") and, under Slurm,
// slurm_job_id, slurm_node, slurm_partition, slurm_cluster, slurm_step_id,
// slurm_cpus_on_node.
std::vector<std::pair<std::string, std::string>> scheduler_context(const std::optional<SlurmJob>& job);

// One line for stderr and the context: which job and node this is, and the
// PUs its ranks may use (the task's cpuset, which Slurm set); `node_pus` is
// how many PUs the node has, to warn when Slurm gave the task fewer.
std::string describe_slurm_cpus(const SlurmJob& job, const std::vector<int>& allowed_pus, int node_pus);

}  // namespace ipcatlas
