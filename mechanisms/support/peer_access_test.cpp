// explain_access_failure names the right cause for each errno and environment,
// and read_access_environment parses /proc (a fake root, and this machine).
// The sibling probe, with real processes, is tested in sibling_probe_test.cpp.
#include "mechanisms/support/peer_access.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/testing/fake_root.hpp"

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "harness/base/error.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// explain_access_failure: one row per cause.

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
     Env().yama(3).cap().seccomp(2).other_userns(),
     "Yama ptrace_scope=3 forbids every process, even root", "reboot", nullptr},
    {"Yama 2 without CAP_SYS_PTRACE", "process_vm_readv", EPERM, Env().yama(2),
     "Yama ptrace_scope=2 allows only CAP_SYS_PTRACE holders to access other processes", "ptrace_scope=1",
     nullptr},
    {"Yama 2 with CAP_SYS_PTRACE falls through to seccomp", "process_vm_readv", EPERM,
     Env().yama(2).cap().seccomp(2), "seccomp filter", "--security-opt seccomp=",
     "ptrace_scope"},
    {"other user namespace", "open /proc/PID/mem", EACCES, Env().yama(1).other_userns(),
     "another user namespace", "same user namespace", "ptrace_scope"},
    {"seccomp filter", "process_vm_readv", EPERM, Env().seccomp(2), "seccomp filter is active",
     "--security-opt seccomp=", nullptr},
    {"seccomp before Yama 1", "PTRACE_SEIZE", EPERM, Env().yama(1).seccomp(2), "seccomp filter",
     "seccomp profile", "ptrace_scope"},
    {"Yama 1: no PR_SET_PTRACER declaration", "process_vm_readv", EPERM, Env().yama(1),
     "the target did not declare this process", "prctl failed", nullptr},
    {"Yama 1 yields to CAP_SYS_PTRACE", "process_vm_readv", EPERM, Env().yama(1).cap(),
     "AppArmor or SELinux", "audit log", "ptrace_scope"},
    {"generic EPERM without CAP_SYS_PTRACE", "process_vm_readv", EPERM, {},
     "lacks CAP_SYS_PTRACE and the peer runs with other credentials or is not dumpable", "dmesg", nullptr},
    {"hidepid hides /proc/PID", "open /proc/PID/mem", ENOENT, Env().hidepid("hidepid=2"),
     "/proc is mounted with hidepid=2", "remount", nullptr},
    {"hidepid does not hide pids from process_vm_readv", "process_vm_readv", ESRCH,
     Env().hidepid("hidepid=invisible"), "the peer exited", "keep the peer alive", "hidepid"},
    {"subset=pid keeps /proc/PID visible", "open /proc/PID/mem", ENOENT, Env().hidepid("subset=pid"),
     "the peer exited", "PID namespace", "subset"},
    {"ptrace request to a process not stopped under our trace", "PTRACE_PEEKDATA", ESRCH, Env(),
     "is not stopped", "PTRACE_INTERRUPT", nullptr},
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

// ---------------------------------------------------------------------------
// read_access_environment on a fake root.

using testing::FakeRoot;

constexpr const char* kStatusWithoutPtraceCap =
    "Name:\tipcatlas\nUmask:\t0022\nState:\tR (running)\nCapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
    "NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";

// Only bit 19 (CAP_SYS_PTRACE) set.
constexpr const char* kStatusWithPtraceCap = "CapPrm:\t0000000000080000\nCapEff:\t0000000000080000\nSeccomp:\t0\n";

constexpr const char* kMountinfoHidepid2 =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,hidepid=2,gid=27\n"
    "24 23 0:22 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - binfmt_misc binfmt_misc rw\n";

TEST(PeerAccessEnvironment, ReadsFakeRoot) {
  const FakeRoot root;
  root.write("proc/sys/kernel/yama/ptrace_scope", "2\n");
  root.write("proc/self/status", kStatusWithoutPtraceCap);
  root.write("proc/self/mountinfo", kMountinfoHidepid2);
  const AccessEnvironment env = read_access_environment(0, root.str());
  EXPECT_EQ(env.yama_scope, 2);
  EXPECT_FALSE(env.cap_sys_ptrace);
  EXPECT_EQ(env.seccomp_mode, 2);
  EXPECT_EQ(env.proc_hidepid, "hidepid=2");
  EXPECT_FALSE(env.peer_in_other_userns);
}

TEST(PeerAccessEnvironment, MissingFilesMeanUnknownNotFailure) {
  const FakeRoot root;
  const AccessEnvironment env = read_access_environment(4242, root.str());
  EXPECT_EQ(env.yama_scope, -1);
  EXPECT_FALSE(env.cap_sys_ptrace);
  EXPECT_EQ(env.seccomp_mode, 0);
  EXPECT_EQ(env.proc_hidepid, "");
  EXPECT_FALSE(env.peer_in_other_userns);
}

TEST(PeerAccessEnvironment, CapSysPtraceIsBit19OfCapEff) {
  const FakeRoot root;
  root.write("proc/self/status", kStatusWithPtraceCap);
  EXPECT_TRUE(read_access_environment(0, root.str()).cap_sys_ptrace);
  root.write("proc/self/status", "CapEff:\t000001fffff7ffff\n");  // everything but bit 19
  EXPECT_FALSE(read_access_environment(0, root.str()).cap_sys_ptrace);
}

TEST(PeerAccessEnvironment, YamaValuesOutsideZeroToThreeAreUnknown) {
  const FakeRoot root;
  for (const char* junk : {"", "banana\n", "7\n", "-1\n"}) {
    root.write("proc/sys/kernel/yama/ptrace_scope", junk);
    EXPECT_EQ(read_access_environment(0, root.str()).yama_scope, -1) << junk;
  }
  root.write("proc/sys/kernel/yama/ptrace_scope", "0\n");
  EXPECT_EQ(read_access_environment(0, root.str()).yama_scope, 0);
}

TEST(PeerAccessEnvironment, HidingOptionsOfTheVisibleProcMount) {
  const struct {
    const char* mountinfo;
    const char* expected;
  } cases[] = {
      {kMountinfoHidepid2, "hidepid=2"},
      {"23 22 0:21 / /proc rw,relatime - proc proc rw,hidepid=invisible,subset=pid\n",
       "hidepid=invisible,subset=pid"},
      {"23 22 0:21 / /proc rw,relatime - proc proc rw,hidepid=off\n", ""},
      {"23 22 0:21 / /proc rw,relatime - proc proc rw\n", ""},
      // Only proc mounted on /proc counts.
      {"23 22 0:21 / /proc rw - tmpfs tmpfs rw,hidepid=2\n"
       "30 22 0:30 / /mnt/proc rw - proc proc rw,hidepid=2\n",
       ""},
      // A later mount stacks on the earlier one and is what lookups see.
      {"23 22 0:21 / /proc rw - proc proc rw,hidepid=2\n"
       "40 23 0:40 / /proc rw - proc proc rw\n",
       ""},
  };
  const FakeRoot root;
  for (const auto& c : cases) {
    root.write("proc/self/mountinfo", c.mountinfo);
    EXPECT_EQ(read_access_environment(0, root.str()).proc_hidepid, c.expected) << c.mountinfo;
  }
}

TEST(PeerAccessEnvironment, AChildUserNamespaceShowsInUidMap) {
  const FakeRoot root;
  EXPECT_FALSE(read_access_environment(0, root.str()).in_child_userns) << "no uid_map: no user namespaces";
  root.write("proc/self/uid_map", "         0          0 4294967295\n");
  EXPECT_FALSE(read_access_environment(0, root.str()).in_child_userns) << "the identity map";
  root.write("proc/self/uid_map", "         0       1000          1\n");
  EXPECT_TRUE(read_access_environment(0, root.str()).in_child_userns);
  root.write("proc/self/uid_map", "");
  EXPECT_TRUE(read_access_environment(0, root.str()).in_child_userns) << "a new namespace nobody mapped yet";
  AccessEnvironment env;
  env.in_child_userns = true;
  env.cap_sys_ptrace = true;
  const Availability why = explain_access_failure("process_vm_readv", EPERM, env);
  EXPECT_NE(why.reason.find("child user namespace"), std::string::npos) << why.reason;
  EXPECT_NE(why.fix.find("same user namespace"), std::string::npos) << why.fix;
}

TEST(PeerAccessEnvironment, UserNamespaceDiffersOnlyWhenBothLinksAreRead) {
  const FakeRoot root;
  root.link("proc/self/ns/user", "user:[4026531837]");
  root.link("proc/4242/ns/user", "user:[4026532001]");
  root.link("proc/4243/ns/user", "user:[4026531837]");
  EXPECT_TRUE(read_access_environment(4242, root.str()).peer_in_other_userns);
  EXPECT_FALSE(read_access_environment(4243, root.str()).peer_in_other_userns);
  EXPECT_FALSE(read_access_environment(4244, root.str()).peer_in_other_userns) << "unreadable must not count";
  EXPECT_FALSE(read_access_environment(0, root.str()).peer_in_other_userns) << "no peer";
}

TEST(PeerAccessEnvironment, FakeSysctlScope2WithoutCapIsExplained) {
  const FakeRoot root;
  root.write("proc/sys/kernel/yama/ptrace_scope", "2\n");
  root.write("proc/self/status", "CapEff:\t000001fffff7ffff\nSeccomp:\t0\n");
  const Availability a = explain_access_failure("process_vm_readv", EPERM, read_access_environment(0, root.str()));
  EXPECT_NE(a.reason.find("ptrace_scope=2"), std::string::npos) << a.reason;
  EXPECT_NE(a.reason.find("CAP_SYS_PTRACE"), std::string::npos) << a.reason;
  EXPECT_NE(a.fix.find("kernel.yama.ptrace_scope=1"), std::string::npos) << a.fix;
}

TEST(PeerAccessEnvironment, ThisMachine) {
  const AccessEnvironment env = read_access_environment(getpid());
  EXPECT_FALSE(env.peer_in_other_userns) << "a process shares its own user namespace";
  EXPECT_GE(env.yama_scope, -1);
  EXPECT_LE(env.yama_scope, 3);
}

TEST(PeerAccessAllow, DeclaringAPeerIsHarmless) {
  allow_peer_access(getppid());
  allow_peer_access(0);   // ignored: would clear the declaration
  allow_peer_access(-1);  // ignored: would be PR_SET_PTRACER_ANY
  SUCCEED();
}

}  // namespace
}  // namespace ipcatlas
