// `run --out` placeholders, so that one command line under `srun` writes one
// file per node: results/cluster/%j/%n.json.
#pragma once

#include <optional>
#include <string>

#include "harness/machine/slurm_job.hpp"

namespace ipcatlas {

// What the placeholders stand for.
struct OutputNames {
  std::string short_host;         // %h: the host name up to its first dot
  std::optional<SlurmJob> slurm;  // %n: slurm->node, %j: slurm->job_id
};

// The names of this process: gethostname() and the Slurm environment.
OutputNames this_process_output_names();

// `pattern` with %h, %n, %j and %% replaced. Throws UsageError naming the
// pattern for an unknown placeholder, a lone trailing '%', %n or %j outside
// Slurm, and a value that is empty or holds a '/' (it would move the file
// to another directory).
std::string expand_output_pattern(const std::string& pattern, const OutputNames& names);

}  // namespace ipcatlas
