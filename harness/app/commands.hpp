// The three subcommands. Each returns the process exit status and throws
// UsageError for bad input (main() turns it into exit status 2).
#pragma once

#include "harness/app/cli.hpp"

namespace ipcatlas {

int run_list_command(const ListOptions& options);
int run_doctor_command(const DoctorOptions& options);
int run_run_command(const RunOptions& options);

}  // namespace ipcatlas
