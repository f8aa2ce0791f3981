// Why an access to another process's memory (process_vm_readv/writev,
// /proc/PID/mem, ptrace) failed, and how to fix it.
//
// The kernel answers such attempts with a bare EPERM, EACCES, ENOSYS or
// ENOENT for half a dozen different reasons. explain_access_failure() turns
// the errno and what can be read about the process's environment
// (peer_environment.hpp) into the cause a user can act on: the missing
// syscall, Yama ptrace_scope 1/2/3, a missing CAP_SYS_PTRACE, a seccomp
// filter, another user namespace, or /proc mounted with hidepid.
#pragma once

#include <sys/types.h>

#include <string>

#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/peer_environment.hpp"

namespace ipcatlas {

// The cause of a failed `operation` ("process_vm_readv", "open /proc/PID/mem",
// "PTRACE_SEIZE", "vmsplice", ...) that failed with `err`, as an Availability
// whose reason starts with the errno name and whose fix says what to change.
// A resource errno (EAGAIN, EMFILE, ENFILE, ENOMEM) is no permission problem:
// it gives resource_failure() (harness/base/resource_limits.hpp), a failed probe.
Availability explain_access_failure(const std::string& operation, int err, const AccessEnvironment& env);

// explain_access_failure() for the errno the last call set, with this
// process's environment. errno is saved first: reading the environment
// changes it (passing errno and read_access_environment() as two arguments
// of one call would leave the order, and so the errno, to the compiler).
Availability explain_errno(const std::string& operation, pid_t peer = 0);

}  // namespace ipcatlas
