#include "harness/base/resource_limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"

namespace ipcatlas {
namespace {

struct Cause {
  std::string why;
  std::string fix;
};

// The soft limit, the one the kernel enforces: "6", or "unlimited".
std::string soft_limit(int resource) {
  rlimit limit{};
  if (::getrlimit(resource, &limit) != 0) return "unknown";
  return limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur);
}

bool creates_a_process(const std::string& call) {
  return call.rfind("fork", 0) == 0 || call.rfind("vfork", 0) == 0 || call.rfind("clone", 0) == 0 ||
         call == "pthread_create";
}

// The kernel counts RLIMIT_NPROC against the real uid, and never for root
// (nor CAP_SYS_RESOURCE holders): then only a pids cgroup or the system-wide
// thread limits are left to blame.
Cause process_limit() {
  const std::string nproc = soft_limit(RLIMIT_NPROC);
  const std::string uid = std::to_string(::getuid());
  const std::string cgroup_fix = "raise pids.max of this cgroup (systemd TasksMax=, docker run --pids-limit) or "
                                 "end other processes";
  if (nproc == "unlimited" || ::getuid() == 0)
    return {"RLIMIT_NPROC=" + nproc + " does not bind uid " + uid +
                ", so a pids cgroup limit (pids.max) or kernel.threads-max was reached",
            cgroup_fix};
  return {"the processes of uid " + uid + " have reached RLIMIT_NPROC=" + nproc +
              " (every process and thread of the user counts), or a pids cgroup limit was reached",
          "raise the limit (ulimit -u; a probe needs 2 more processes, a run 1 per rank) or end other processes of "
          "uid " +
              uid + "; else " + cgroup_fix};
}

Cause open_files() {
  return {"this process has reached RLIMIT_NOFILE=" + soft_limit(RLIMIT_NOFILE) + " open file descriptors",
          "raise the limit (ulimit -n; ipcatlas needs a few dozen, ulimit -n 1024 is plenty)"};
}

Cause system_files() {
  const FileRead max = read_first_line("/proc/sys/fs/file-max");
  return {"the system's open files have reached fs.file-max=" + (max.ok() ? max.text : "unknown"),
          "close files that other processes hold, or raise the limit (sysctl fs.file-max=N)"};
}

Cause memory() {
  return {"memory ran out: RLIMIT_AS=" + soft_limit(RLIMIT_AS) +
              " bytes of address space (ulimit -v), or this cgroup's memory.max, or the machine's memory",
          "raise ulimit -v or the cgroup's memory.max (docker run --memory), or free memory"};
}

// EAGAIN from anything but process creation: locked memory, or a passing shortage.
Cause temporary_shortage() {
  return {"the kernel was short of a resource this call needs (locked memory: RLIMIT_MEMLOCK=" +
              soft_limit(RLIMIT_MEMLOCK) + " bytes; or kernel memory)",
          "retry; raise ulimit -l if the call locks memory; check dmesg"};
}

Cause cause_of(const std::string& call, int err) {
  switch (err) {
    case EMFILE: return open_files();
    case ENFILE: return system_files();
    case ENOMEM: return memory();
    default: return creates_a_process(call) ? process_limit() : temporary_shortage();
  }
}

}  // namespace

bool is_resource_errno(int err) { return err == EAGAIN || err == EMFILE || err == ENFILE || err == ENOMEM; }

Availability resource_failure(const std::string& call, int err) {
  Cause cause = cause_of(call, err);
  return Availability::failure(errno_name(err) + " from " + call + ": " + cause.why, std::move(cause.fix));
}

Availability probe_error(const std::exception& e, const std::string& fix) {
  const auto* sys = dynamic_cast<const SysError*>(&e);
  if (sys && is_resource_errno(sys->err())) return resource_failure(sys->call(), sys->err());
  return Availability::no(e.what(), fix);
}

}  // namespace ipcatlas
