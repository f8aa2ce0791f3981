#include "harness/machine/slurm_job.hpp"

#include <cstdlib>
#include <fmt/format.h>

#include "harness/base/text.hpp"

namespace ipcatlas {

namespace {

std::string value_of(const EnvironmentLookup& lookup, const char* name) {
  const char* value = lookup ? lookup(name) : std::getenv(name);
  return value ? value : "";
}

}  // namespace

std::optional<SlurmJob> slurm_job(const EnvironmentLookup& lookup) {
  SlurmJob job{value_of(lookup, "SLURM_JOB_ID"),        value_of(lookup, "SLURMD_NODENAME"),
               value_of(lookup, "SLURM_JOB_PARTITION"), value_of(lookup, "SLURM_CLUSTER_NAME"),
               value_of(lookup, "SLURM_STEP_ID"),       value_of(lookup, "SLURM_CPUS_ON_NODE")};
  // A leftover SLURM_JOB_ID in a login shell without a node name is not a job we run in.
  if (job.job_id.empty() || job.node.empty()) return std::nullopt;
  return job;
}

std::vector<std::pair<std::string, std::string>> scheduler_context(const std::optional<SlurmJob>& job) {
  if (!job) return {{"scheduler", "none"}};
  return {{"scheduler", "slurm"},
          {"slurm_job_id", job->job_id},
          {"slurm_node", job->node},
          {"slurm_partition", job->partition.empty() ? "unknown" : job->partition},
          {"slurm_cluster", job->cluster.empty() ? "unknown" : job->cluster},
          {"slurm_step_id", job->step_id.empty() ? "batch script" : job->step_id},
          {"slurm_cpus_on_node", job->cpus_on_node.empty() ? "unknown" : job->cpus_on_node}};
}

std::string describe_slurm_cpus(const SlurmJob& job, const std::vector<int>& allowed_pus, int node_pus) {
  std::string line = fmt::format("Slurm job {} on node {}: ranks run on the PUs the task may use ({}, {} of {})",
                                 job.job_id, job.node, join(allowed_pus), allowed_pus.size(), node_pus);
  // A task's default is one CPU: two ranks would then share it, and every
  // figure would measure the scheduler, not the mechanism.
  if (static_cast<int>(allowed_pus.size()) < node_pus)
    line += "; Slurm gave this task part of the node: run the step with srun --whole in an --exclusive "
            "allocation (or --cpus-per-task) to measure the whole node";
  return line;
}

}  // namespace ipcatlas
