#include "mechanisms/support/access_causes.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "harness/base/error.hpp"
#include "harness/base/resource_limits.hpp"

namespace ipcatlas {
namespace {

// Each function returns the text after "<ERRNO> from <operation>: ".

struct Cause {
  std::string why;
  std::string fix;
};

bool is_cma(const std::string& operation) { return operation.rfind("process_vm_", 0) == 0; }

constexpr const char* kCmaConfigCheck =
    "CONFIG_CROSS_MEMORY_ATTACH=y (check: grep CROSS_MEMORY_ATTACH /boot/config-$(uname -r))";

// In a container the filter is the likelier culprit: runtimes answer syscalls
// their profile does not know with ENOSYS, while kernels without CMA are rare.
Cause missing_syscall(const std::string& operation, const AccessEnvironment& env) {
  if (env.seccomp_mode == 2)
    return {"the kernel lacks it or a seccomp filter returns ENOSYS for it (a filter is active: Seccomp 2)",
            "check that the container's seccomp profile allows " + operation +
                " (docker/podman run --security-opt seccomp=<profile.json>)" +
                (is_cma(operation) ? std::string("; and that the kernel has ") + kCmaConfigCheck : "")};
  if (is_cma(operation))
    return {"this kernel was built without it", std::string("use a kernel built with ") + kCmaConfigCheck};
  return {"this kernel was built without it",
          "use a kernel that provides " + operation + " (see /boot/config-$(uname -r))"};
}

// Most certain cause first, so that a likelier-looking but weaker one never hides it:
//  1. Yama 3 refuses everyone, capabilities included: nothing else matters.
//  2. Yama 2 refuses for certain whoever lacks CAP_SYS_PTRACE (with it, Yama 2 allows: fall through).
//  3. Another user namespace refuses for certain: our capabilities count only in our own namespace.
//  4. A seccomp filter is only known to exist, not to cover this syscall (Docker's default
//     allows CMA and ptrace on kernels >= 4.8), so it comes after the certain causes; but
//  5. before Yama 1, because ipcatlas ranks always declare their peer with PR_SET_PTRACER,
//     which makes a Yama 1 refusal the exception. Yama 1 also yields to CAP_SYS_PTRACE.
//  6. What is left cannot be seen from here: credentials, dumpability, another LSM.
Cause permission_denied(const AccessEnvironment& env) {
  if (env.yama_scope == 3)
    return {"Yama ptrace_scope=3 forbids every process, even root, to access another one",
            "scope 3 cannot be lowered at run time: make the machine boot with kernel.yama.ptrace_scope<=1 "
            "(remove the setting that raises it, e.g. in /etc/sysctl.d/) and reboot"};
  if (env.yama_scope == 2 && !env.cap_sys_ptrace)
    return {"Yama ptrace_scope=2 allows only CAP_SYS_PTRACE holders to access other processes, and this "
            "process does not have CAP_SYS_PTRACE",
            "run as root, or grant the capability (setcap cap_sys_ptrace+ep on the ipcatlas binary), or lower "
            "the scope: sysctl kernel.yama.ptrace_scope=1"};
  if (env.peer_in_other_userns)
    return {"the peer runs in another user namespace, over which this process has no CAP_SYS_PTRACE",
            "start all ranks in the same user namespace (the same container, or one unshare/podman/bwrap "
            "invocation)"};
  // A peer outside our namespace cannot always be seen (its ns link needs the
  // access that failed), but our own uid_map tells that we are in a child one.
  if (env.in_child_userns)
    return {"this process runs in a child user namespace (its uid_map is not the identity), where its capabilities, "
            "CAP_SYS_PTRACE included, count only inside that namespace; a peer outside it refuses the access",
            "start all ranks in the same user namespace (the same container, or one unshare/podman/bwrap "
            "invocation)"};
  if (env.seccomp_mode == 2)
    return {"a seccomp filter is active (Seccomp 2, e.g. a container's profile) and most likely refuses the call",
            "allow the syscall in the seccomp profile (docker/podman run --security-opt seccomp=<profile.json>); "
            "on kernels < 4.8 Docker's default profile allows it only with --cap-add=SYS_PTRACE"};
  if (env.yama_scope == 1 && !env.cap_sys_ptrace)
    return {"Yama ptrace_scope=1 allows access only to descendants and to processes that declared the accessor "
            "with prctl(PR_SET_PTRACER), and the target did not declare this process",
            "ipcatlas ranks declare each other with prctl(PR_SET_PTRACER), so that prctl failed or another LSM "
            "refused; run as root (CAP_SYS_PTRACE), or sysctl kernel.yama.ptrace_scope=0"};
  // Inside a user namespace of its own a process holds every capability, but only
  // there; and the peer's namespace cannot be read without the access that failed.
  if (env.cap_sys_ptrace)
    return {"this process has CAP_SYS_PTRACE and no Yama, seccomp or user-namespace restriction was seen, so "
            "either the peer is in a user namespace this process cannot inspect (capabilities count only in the "
            "namespace that grants them) or an LSM such as AppArmor or SELinux refused",
            "start all ranks in the same user namespace (the same container); otherwise look for the denial in "
            "dmesg or the audit log (ausearch -m avc; apparmor=\"DENIED\")"};
  return {"this process lacks CAP_SYS_PTRACE and the peer runs with other credentials or is not dumpable "
          "(set-uid, prctl(PR_SET_DUMPABLE, 0)), or an LSM such as AppArmor or SELinux refused",
          "run all ranks as the same user from the same executable, or as root; look for an LSM denial in dmesg "
          "or the audit log (ausearch -m avc; apparmor=\"DENIED\")"};
}

// ptrace answers ESRCH, not a permission error, to a request (PTRACE_PEEKDATA,
// PTRACE_INTERRUPT, ...) on a process that is not its tracee or not stopped.
bool is_request_to_tracee(const std::string& operation, int err) {
  return err == ESRCH && operation.rfind("PTRACE_", 0) == 0 && operation != "PTRACE_ATTACH" &&
         operation != "PTRACE_SEIZE";
}

// hidepid hides /proc/PID entries, so it explains a failed path lookup under /proc
// and nothing else: process_vm_* and ptrace find their target by pid, not through /proc.
// subset=pid hides only what is not a process, so it never explains a missing /proc/PID.
Cause process_not_found(const std::string& operation, int err, const AccessEnvironment& env) {
  if (is_request_to_tracee(operation, err))
    return {"the peer exited, or is not traced by this process, or is not stopped (ptrace requests other than "
            "PTRACE_ATTACH and PTRACE_SEIZE need a tracee in a ptrace stop)",
            "attach first (PTRACE_SEIZE), stop the peer (PTRACE_INTERRUPT) and wait for the stop with waitpid "
            "before the request"};
  if (operation.find("/proc/") != std::string::npos && env.proc_hidepid.find("hidepid=") != std::string::npos)
    return {"/proc is mounted with " + env.proc_hidepid +
                ", which hides the /proc/PID entries of processes this one may not inspect",
            "remount /proc without it (mount -o remount,hidepid=0 /proc) or run the ranks as a member of the "
            "mount's gid= group; hidepid hides only processes this one could not read anyway, so also run all "
            "ranks as the same user"};
  return {"no process with that pid is visible here: the peer exited before the access, or runs in another PID "
          "namespace",
          "keep the peer alive until the access is done (if it crashed, its own error says why), and start all "
          "ranks in the same PID namespace (the same container)"};
}

Cause unexplained(int err) {
  const char* description = strerrordesc_np(err);
  return {description != nullptr ? description : "unknown error",
          "no known permission cause matches this errno: run ipcatlas doctor for the machine's Yama and seccomp "
          "settings, and check dmesg"};
}

Cause cause_of(const std::string& operation, int err, const AccessEnvironment& env) {
  switch (err) {
    case ENOSYS: return missing_syscall(operation, env);
    case EPERM:
    case EACCES: return permission_denied(env);
    case ENOENT:
    case ESRCH: return process_not_found(operation, err, env);
    default: return unexplained(err);
  }
}

}  // namespace

Availability explain_access_failure(const std::string& operation, int err, const AccessEnvironment& env) {
  if (is_resource_errno(err)) return resource_failure(operation, err);
  Cause cause = cause_of(operation, err, env);
  return Availability::no(errno_name(err) + " from " + operation + ": " + cause.why, std::move(cause.fix));
}

Availability explain_errno(const std::string& operation, pid_t peer) {
  const int err = errno;
  return explain_access_failure(operation, err, read_access_environment(peer));
}

}  // namespace ipcatlas
