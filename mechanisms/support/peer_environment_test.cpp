// read_access_environment parses /proc (a fake root, and this machine), and
// what it reads leads explain_access_failure to the cause.
#include "mechanisms/support/peer_environment.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/testing/fake_root.hpp"

#include <cerrno>
#include <string>

#include "mechanisms/support/access_causes.hpp"

namespace ipcatlas {
namespace {

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
      {"23 22 0:21 / /proc rw,relatime - proc proc rw,hidepid=invisible,subset=pid\n", "hidepid=invisible,subset=pid"},
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
