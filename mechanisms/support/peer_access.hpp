// May this process read or write another rank's memory (process_vm_readv/
// writev, /proc/PID/mem, ptrace)? And if not, exactly why, and how to fix it.
//
// The kernel answers such attempts with a bare EPERM, EACCES, ENOSYS or
// ENOENT for half a dozen different reasons. explain_access_failure() turns
// the errno and what can be read about the process's environment into the
// cause a user can act on: the missing syscall, Yama ptrace_scope 1/2/3,
// a missing CAP_SYS_PTRACE, a seccomp filter, another user namespace, or
// /proc mounted with hidepid.
#pragma once

#include <sys/types.h>

#include <string>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

struct AccessEnvironment {
  int yama_scope = -1;             // -1: Yama is not loaded
  bool cap_sys_ptrace = false;     // CAP_SYS_PTRACE in this process's effective set
  int seccomp_mode = 0;            // 0 none, 1 strict, 2 filter
  std::string proc_hidepid;        // the hidepid= (or subset=) option of the /proc mount, "" if none
  bool peer_in_other_userns = false;  // the peer's user namespace differs from ours (known only if readable)
  bool in_child_userns = false;       // this process is not in the initial user namespace (uid_map not identity)
};

// Reads /proc/sys/kernel/yama/ptrace_scope, /proc/self/status (CapEff,
// Seccomp), /proc/self/mountinfo, /proc/self/uid_map and, when peer > 0, the
// user namespaces of this process and of the peer; every path under `root`
// ("" = this machine).
AccessEnvironment read_access_environment(pid_t peer, const std::string& root = "");

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

// Declares `peer`, and only it, as allowed to trace or access this process
// under Yama ptrace_scope=1 (prctl(PR_SET_PTRACER, peer); never
// PR_SET_PTRACER_ANY). Harmless where Yama is not loaded.
void allow_peer_access(pid_t peer);

}  // namespace ipcatlas
