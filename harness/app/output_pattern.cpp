#include "harness/app/output_pattern.hpp"

#include <unistd.h>

#include <climits>
#include <fmt/format.h>

#include "harness/base/error.hpp"

namespace ipcatlas {

namespace {

constexpr const char* kPlaceholders = "%h short host name, %n Slurm node name, %j Slurm job id, %% a percent sign";

// The value of one placeholder letter; throws for what cannot name a file.
std::string placeholder_value(const std::string& pattern, char letter, const OutputNames& names) {
  std::string value;
  if (letter == 'h') {
    value = names.short_host;
  } else if (letter == 'n' || letter == 'j') {
    if (!names.slurm)
      throw UsageError(fmt::format("--out '{}': %{} is the Slurm {}, but this run is not in a Slurm job "
                                   "(SLURM_JOB_ID or SLURMD_NODENAME is unset); use %h for the host name",
                                   pattern, letter, letter == 'n' ? "node name" : "job id"));
    value = letter == 'n' ? names.slurm->node : names.slurm->job_id;
  } else {
    throw UsageError(fmt::format("--out '{}': '%{}' is not a placeholder ({})", pattern, letter, kPlaceholders));
  }
  if (value.empty() || value.find('/') != std::string::npos || value == "." || value == "..")
    throw UsageError(
        fmt::format("--out '{}': %{} would be '{}', which cannot be part of a file name", pattern, letter, value));
  return value;
}

}  // namespace

OutputNames this_process_output_names() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string short_host = host;
  short_host = short_host.substr(0, short_host.find('.'));
  return OutputNames{short_host, slurm_job()};
}

std::string expand_output_pattern(const std::string& pattern, const OutputNames& names) {
  std::string path;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      path += pattern[i];
      continue;
    }
    if (i + 1 == pattern.size())
      throw UsageError(
          fmt::format("--out '{}' ends in a lone '%' ({}; %% for a percent sign)", pattern, kPlaceholders));
    const char letter = pattern[++i];
    path += letter == '%' ? std::string("%") : placeholder_value(pattern, letter, names);
  }
  return path;
}

}  // namespace ipcatlas
