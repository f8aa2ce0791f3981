// explain_access_failure names the right cause for each errno and
// environment: one row per cause. Reading the environment is tested in
// peer_environment_test.cpp, the sibling probe in sibling_probe_test.cpp.
#include "mechanisms/support/access_causes.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

// Environments that read as what is set: Env().yama(2).cap(); the rest as on an unrestricted machine.
struct Env {
  AccessEnvironment env;
  Env yama(int scope) const { return with(&AccessEnvironment::yama_scope, scope); }
  Env cap() const { return with(&AccessEnvironment::cap_sys_ptrace, true); }
  Env seccomp(int mode) const { return with(&AccessEnvironment::seccomp_mode, mode); }
  Env other_userns() const { return with(&AccessEnvironment::peer_in_other_userns, true); }
  Env hidepid(const char* option) const { return with(&AccessEnvironment::proc_hidepid, std::string(option)); }
  operator AccessEnvironment() const { return env; }

 private:
  template <class T>
  Env with(T AccessEnvironment::*field, T value) const {
    Env copy = *this;
    copy.env.*field = std::move(value);
    return copy;
  }
};

struct ExplainCase {
  const char* name;
  const char* operation;
  int err;
  AccessEnvironment env;
  const char* reason_has;
  const char* fix_has;
  const char* reason_lacks = nullptr;  // a cause that must not be blamed
};

const ExplainCase kExplainCases[] = {
    {"ENOSYS, no seccomp: kernel without CMA", "process_vm_readv", ENOSYS, Env(), "this kernel was built without it",
     "CONFIG_CROSS_MEMORY_ATTACH", "seccomp"},
    {"ENOSYS, no seccomp, not CMA: generic fix", "PTRACE_SEIZE", ENOSYS, Env(), "this kernel was built without it",
     "provides PTRACE_SEIZE", nullptr},
    {"ENOSYS under a seccomp filter", "process_vm_writev", ENOSYS, Env().seccomp(2),
     "the kernel lacks it or a seccomp filter returns ENOSYS for it", "CONFIG_CROSS_MEMORY_ATTACH", nullptr},
    {"Yama 3 beats everything, even CAP_SYS_PTRACE", "process_vm_readv", EPERM,
     Env().yama(3).cap().seccomp(2).other_userns(), "Yama ptrace_scope=3 forbids every process, even root", "reboot",
     nullptr},
    {"Yama 2 without CAP_SYS_PTRACE", "process_vm_readv", EPERM, Env().yama(2),
     "Yama ptrace_scope=2 allows only CAP_SYS_PTRACE holders to access other processes", "ptrace_scope=1", nullptr},
    {"Yama 2 with CAP_SYS_PTRACE falls through to seccomp", "process_vm_readv", EPERM, Env().yama(2).cap().seccomp(2),
     "seccomp filter", "--security-opt seccomp=", "ptrace_scope"},
    {"other user namespace", "open /proc/PID/mem", EACCES, Env().yama(1).other_userns(), "another user namespace",
     "same user namespace", "ptrace_scope"},
    {"seccomp filter", "process_vm_readv", EPERM, Env().seccomp(2), "seccomp filter is active",
     "--security-opt seccomp=", nullptr},
    {"seccomp before Yama 1", "PTRACE_SEIZE", EPERM, Env().yama(1).seccomp(2), "seccomp filter", "seccomp profile",
     "ptrace_scope"},
    {"Yama 1: no PR_SET_PTRACER declaration", "process_vm_readv", EPERM, Env().yama(1),
     "the target did not declare this process", "prctl failed", nullptr},
    {"Yama 1 yields to CAP_SYS_PTRACE", "process_vm_readv", EPERM, Env().yama(1).cap(), "AppArmor or SELinux",
     "audit log", "ptrace_scope"},
    {"generic EPERM without CAP_SYS_PTRACE",
     "process_vm_readv",
     EPERM,
     {},
     "lacks CAP_SYS_PTRACE and the peer runs with other credentials or is not dumpable",
     "dmesg",
     nullptr},
    {"hidepid hides /proc/PID", "open /proc/PID/mem", ENOENT, Env().hidepid("hidepid=2"),
     "/proc is mounted with hidepid=2", "remount", nullptr},
    {"hidepid does not hide pids from process_vm_readv", "process_vm_readv", ESRCH, Env().hidepid("hidepid=invisible"),
     "the peer exited", "keep the peer alive", "hidepid"},
    {"subset=pid keeps /proc/PID visible", "open /proc/PID/mem", ENOENT, Env().hidepid("subset=pid"), "the peer exited",
     "PID namespace", "subset"},
    {"ptrace request to a process not stopped under our trace", "PTRACE_PEEKDATA", ESRCH, Env(), "is not stopped",
     "PTRACE_INTERRUPT", nullptr},
    {"PTRACE_SEIZE's ESRCH: the peer is gone", "PTRACE_SEIZE", ESRCH, Env(), "the peer exited before the access",
     "keep the peer alive", nullptr},
    {"peer gone", "open /proc/PID/mem", ENOENT, Env(), "the peer exited before the access", "keep the peer alive",
     nullptr},
    {"unknown errno: its description", "process_vm_readv", EFAULT, Env(), "Bad address", "ipcatlas doctor", nullptr},
};

TEST(PeerAccessExplain, EachCauseHasItsReasonAndAFix) {
  for (const ExplainCase& c : kExplainCases) {
    SCOPED_TRACE(c.name);
    const Availability a = explain_access_failure(c.operation, c.err, c.env);
    EXPECT_FALSE(a.available);
    EXPECT_FALSE(a.failed) << "a permission or support problem is a skip, not a failure";
    EXPECT_EQ(a.reason.rfind(errno_name(c.err) + " from " + c.operation + ": ", 0), 0u) << a.reason;
    EXPECT_NE(a.reason.find(c.reason_has), std::string::npos) << a.reason;
    EXPECT_FALSE(a.fix.empty());
    EXPECT_NE(a.fix.find(c.fix_has), std::string::npos) << a.fix;
    if (c.reason_lacks != nullptr) {
      EXPECT_EQ(a.reason.find(c.reason_lacks), std::string::npos) << a.reason;
    }
  }
}

TEST(PeerAccessExplain, ReasonReadsAsOneSentence) {
  const Availability a = explain_access_failure("process_vm_readv", EPERM, Env().yama(2));
  EXPECT_EQ(a.reason,
            "EPERM from process_vm_readv: Yama ptrace_scope=2 allows only CAP_SYS_PTRACE holders to access other "
            "processes, and this process does not have CAP_SYS_PTRACE");
}

// Running out of processes, descriptors or memory is no permission problem,
// whatever the environment: the probe failed, and the limit is named instead.
TEST(PeerAccessExplain, AResourceErrnoIsAFailureNotAPermissionCause) {
  for (const int err : {EAGAIN, EMFILE, ENFILE, ENOMEM}) {
    const Availability a = explain_access_failure("open /proc/PID/mem", err, Env().yama(3).seccomp(2));
    EXPECT_FALSE(a.available);
    EXPECT_TRUE(a.failed) << a.reason;
    EXPECT_EQ(a.reason.rfind(errno_name(err) + " from open /proc/PID/mem: ", 0), 0u) << a.reason;
    EXPECT_EQ(a.reason.find("Yama"), std::string::npos) << a.reason;
    EXPECT_EQ(a.reason.find("seccomp"), std::string::npos) << a.reason;
  }
}

}  // namespace
}  // namespace ipcatlas
