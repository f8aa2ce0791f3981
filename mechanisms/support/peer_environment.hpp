// What this process's environment says about accessing another rank's memory
// (process_vm_readv/writev, /proc/PID/mem, ptrace), as read from /proc: Yama
// ptrace_scope, CAP_SYS_PTRACE, seccomp, a /proc mounted with hidepid, user
// namespaces; and the one setting a rank changes itself, declaring its peer
// under Yama. access_causes.hpp turns a refusal into its cause.
#pragma once

#include <sys/types.h>

#include <string>

namespace ipcatlas {

struct AccessEnvironment {
  int yama_scope = -1;                // -1: Yama is not loaded
  bool cap_sys_ptrace = false;        // CAP_SYS_PTRACE in this process's effective set
  int seccomp_mode = 0;               // 0 none, 1 strict, 2 filter
  std::string proc_hidepid;           // the hidepid= (or subset=) option of the /proc mount, "" if none
  bool peer_in_other_userns = false;  // the peer's user namespace differs from ours (known only if readable)
  bool in_child_userns = false;       // this process is not in the initial user namespace (uid_map not identity)
};

// Reads /proc/sys/kernel/yama/ptrace_scope, /proc/self/status (CapEff,
// Seccomp), /proc/self/mountinfo, /proc/self/uid_map and, when peer > 0, the
// user namespaces of this process and of the peer; every path under `root`
// ("" = this machine).
AccessEnvironment read_access_environment(pid_t peer, const std::string& root = "");

// Declares `peer`, and only it, as allowed to trace or access this process
// under Yama ptrace_scope=1 (prctl(PR_SET_PTRACER, peer); never
// PR_SET_PTRACER_ANY). Harmless where Yama is not loaded.
void allow_peer_access(pid_t peer);

}  // namespace ipcatlas
