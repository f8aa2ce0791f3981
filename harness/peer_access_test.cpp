// explain_access_failure names the right cause for each errno and environment;
// read_access_environment parses /proc (a fake root, and this machine); and the
// sibling probe really reads another process's memory, reports what a seccomp
// filter or a user namespace does to it, and leaves no process or fd behind.
#include "harness/peer_access.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/testing/fake_root.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "harness/error.hpp"
#include "harness/text.hpp"

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

// ---------------------------------------------------------------------------
// Processes: the probe and the injections.

constexpr std::size_t kBytes = 64;

std::size_t open_fd_count() {
  std::size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

bool no_children_left() { return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD; }

// Every test that forks checks that it leaves no child and no file descriptor behind.
class NothingLeftBehind : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_TRUE(no_children_left()) << "a child process outlived the test";
    EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked";
  }

 private:
  std::size_t fds_before_ = 0;
};

using PeerAccessProbe = NothingLeftBehind;
using PeerAccessInjection = NothingLeftBehind;

// "EPERM" for EPERM, "0" for success, so that reports read well in failures.
std::string name_of(int err) { return err == 0 ? "0" : errno_name(err); }

// 0 when `got` holds the probe's bytes 0..63.
int check_pattern(const unsigned char* got) {
  for (std::size_t i = 0; i < kBytes; ++i)
    if (got[i] != i) return EBADMSG;
  return 0;
}

int read_with_cma(pid_t target, const void* buffer) {
  unsigned char got[kBytes] = {};
  const iovec local{got, kBytes};
  const iovec remote{const_cast<void*>(buffer), kBytes};
  const ssize_t n = ::process_vm_readv(target, &local, 1, &remote, 1, 0);
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(kBytes) ? check_pattern(got) : EIO;
}

int read_with_proc_mem(pid_t target, const void* buffer) {
  const int fd = ::open(strfmt("/proc/%d/mem", static_cast<int>(target)).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  unsigned char got[kBytes] = {};
  const ssize_t n = ::pread(fd, got, kBytes, static_cast<off_t>(reinterpret_cast<std::uintptr_t>(buffer)));
  const int err = errno;
  ::close(fd);
  if (n < 0) return err;
  return n == static_cast<ssize_t>(kBytes) ? check_pattern(got) : EIO;
}

TEST_F(PeerAccessProbe, CrossMemoryAttachReadsTheTargetsBytes) {
  const int err = try_sibling_access(read_with_cma);
  EXPECT_EQ(name_of(err), "0") << explain_access_failure("process_vm_readv", err, read_access_environment(0)).reason;
}

TEST_F(PeerAccessProbe, ProcPidMemReadsTheTargetsBytes) {
  const int err = try_sibling_access(read_with_proc_mem);
  EXPECT_EQ(name_of(err), "0") << explain_access_failure("open /proc/PID/mem", err, read_access_environment(0)).reason;
}

// The accessor and the target are both children of the caller, like two ranks.
TEST_F(PeerAccessProbe, AccessorAndTargetAreSiblings) {
  const pid_t caller = getpid();
  const int err = try_sibling_access([caller](pid_t target, const void*) {
    std::ifstream status(strfmt("/proc/%d/status", static_cast<int>(target)));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("PPid:", 0) == 0) return std::stoi(line.substr(5)) == caller && getppid() == caller ? 0 : ECHILD;
    return ENOENT;
  });
  EXPECT_EQ(name_of(err), "0");
}

TEST_F(PeerAccessProbe, ReturnsTheAttemptsErrno) {
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) { return EXDEV; })), "EXDEV");
}

TEST_F(PeerAccessProbe, AnAccessorThatDiesWithoutReportingIsEio) {
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) -> int { throw std::runtime_error("boom"); })), "EIO");
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) -> int { ::_exit(3); })), "EIO");
}

// The accessor also traces the target: a traced zombie can be reaped by its
// parent only once its tracer is gone, so cleanup must kill both before reaping.
TEST_F(PeerAccessProbe, AHangingAccessorThatTracesTheTargetTimesOutAndBothAreReaped) {
  const auto start = std::chrono::steady_clock::now();
  const int err = try_sibling_access([](pid_t target, const void*) {
    if (::ptrace(PTRACE_SEIZE, target, nullptr, nullptr) != 0) return errno;
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 0;
  });
  EXPECT_EQ(name_of(err), "ETIMEDOUT");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// What a child process observed, as key=value pairs.
using Report = std::map<std::string, std::string>;

// Runs `body` in a forked child so that what it changes (a seccomp filter, a user
// namespace) never reaches the test process, and returns what it reported.
Report run_isolated(const std::function<void(Report&)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(fds[0]);
    Report report;
    try {
      body(report);
    } catch (const std::exception& e) {  // never unwind into GoogleTest's code in a child
      report["exception"] = e.what();
    }
    std::string text;
    for (const auto& [key, value] : report) text += key + "=" + value + "\n";
    const ssize_t written = ::write(fds[1], text.data(), text.size());
    ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Report report;
  for (std::size_t start = 0, eol; (eol = text.find('\n', start)) != std::string::npos; start = eol + 1) {
    const std::string line = text.substr(start, eol - start);
    const std::size_t eq = line.find('=');
    report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  report["exit"] = WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "killed";
  return report;
}

std::string value(const Report& report, const std::string& key) {
  const auto it = report.find(key);
  return it == report.end() ? "(not reported)" : it->second;
}

#if defined(__x86_64__)
// Answers process_vm_readv with EPERM, as a container profile would, and allows everything else.
bool refuse_cma_with_eperm() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  // Without CAP_SYS_ADMIN a filter needs NO_NEW_PRIVS: set it always, so the test also runs unprivileged.
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

TEST_F(PeerAccessInjection, SeccompFilterRefusingCmaIsNamed) {
  const Report report = run_isolated([](Report& out) {
    if (!refuse_cma_with_eperm()) {
      out["filter"] = name_of(errno);
      return;
    }
    out["filter"] = "installed";
    // The probe's children inherit the filter, as ranks forked in a container do.
    const int err = try_sibling_access(read_with_cma);
    out["cma"] = name_of(err);
    out["procmem"] = name_of(try_sibling_access(read_with_proc_mem));
    const AccessEnvironment env = read_access_environment(0);
    out["seccomp_mode"] = std::to_string(env.seccomp_mode);
    const Availability a = explain_access_failure("process_vm_readv", err, env);
    out["reason"] = a.reason;
    out["fix"] = a.fix;
    out["children_left"] = no_children_left() ? "no" : "yes";
  });
  ASSERT_EQ(value(report, "filter"), "installed");
  EXPECT_EQ(value(report, "cma"), "EPERM");
  EXPECT_EQ(value(report, "procmem"), "0") << "the filter refuses process_vm_readv only";
  EXPECT_EQ(value(report, "seccomp_mode"), "2");
  EXPECT_NE(value(report, "reason").find("EPERM from process_vm_readv: a seccomp filter"), std::string::npos)
      << value(report, "reason");
  EXPECT_NE(value(report, "fix").find("seccomp"), std::string::npos) << value(report, "fix");
  EXPECT_EQ(value(report, "children_left"), "no");
  EXPECT_EQ(value(report, "exit"), "0");
}
#endif

// A process holding bytes 0..63 for others to read, optionally from a user
// namespace of its own. Killed and reaped when this goes out of scope.
class TargetProcess {
 public:
  explicit TargetProcess(bool own_user_namespace) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = ::fork();
    if (pid_ == 0) run(own_user_namespace, fds[1]);
    ::close(fds[1]);
    const bool started = pid_ > 0 && ::read(fds[0], &started_, sizeof started_) == sizeof started_;
    ::close(fds[0]);
    if (!started) throw std::runtime_error("the target process did not start");
  }
  ~TargetProcess() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;

  pid_t pid() const { return pid_; }
  const void* buffer() const { return started_.buffer; }
  int unshare_error() const { return started_.unshare_error; }

 private:
  struct Started {
    int unshare_error;
    const void* buffer;
  };

  [[noreturn]] static void run(bool own_user_namespace, int report_fd) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    static unsigned char bytes[kBytes];
    for (std::size_t i = 0; i < kBytes; ++i) bytes[i] = static_cast<unsigned char>(i);
    const Started started{own_user_namespace && ::unshare(CLONE_NEWUSER) != 0 ? errno : 0, bytes};
    if (::write(report_fd, &started, sizeof started) != sizeof started) ::_exit(1);
    for (;;) ::pause();
  }

  pid_t pid_ = -1;
  Started started_{};
};

std::string user_namespace_of(pid_t pid) {
  char target[256] = {};
  const ssize_t n = ::readlink(strfmt("/proc/%d/ns/user", static_cast<int>(pid)).c_str(), target, sizeof target - 1);
  return n < 0 ? "unreadable: " + errno_name(errno) : std::string(target, static_cast<std::size_t>(n));
}

// From inside a new user namespace, a target in the parent namespace refuses
// CMA: capabilities held there count only there. On Linux 6.18 the target's
// /proc/PID/ns/user link is then unreadable too (reading it needs the same
// ptrace access), so read_access_environment cannot see the namespace
// difference and must not claim it; but our own uid_map shows that we are in
// a child namespace, and the classifier says so.
TEST_F(PeerAccessInjection, AccessFromInsideAnotherUserNamespace) {
  const TargetProcess target(false);
  const Report report = run_isolated([&target](Report& out) {
    if (::unshare(CLONE_NEWUSER) != 0) {
      out["unshare"] = name_of(errno);
      return;
    }
    out["unshare"] = "0";
    const int err = read_with_cma(target.pid(), target.buffer());
    out["cma"] = name_of(err);
    out["target_ns_link"] = user_namespace_of(target.pid());
    const AccessEnvironment env = read_access_environment(target.pid());
    out["peer_in_other_userns"] = env.peer_in_other_userns ? "true" : "false";
    out["in_child_userns"] = env.in_child_userns ? "true" : "false";
    out["cap_sys_ptrace"] = env.cap_sys_ptrace ? "true" : "false";
    out["reason"] = explain_access_failure("process_vm_readv", err, env).reason;
  });
  if (value(report, "unshare") != "0") GTEST_SKIP() << "unshare(CLONE_NEWUSER): " << value(report, "unshare");
  EXPECT_EQ(value(report, "cma"), "EPERM");
  const bool link_readable = value(report, "target_ns_link").rfind("user:", 0) == 0;
  EXPECT_EQ(value(report, "peer_in_other_userns"), link_readable ? "true" : "false")
      << "target link: " << value(report, "target_ns_link");
  EXPECT_EQ(value(report, "in_child_userns"), "true");
  EXPECT_NE(value(report, "reason").find("child user namespace"), std::string::npos) << value(report, "reason");
  // Inside its own namespace the process holds every capability, CAP_SYS_PTRACE included.
  EXPECT_EQ(value(report, "cap_sys_ptrace"), "true");
  EXPECT_EQ(value(report, "exit"), "0");
}

// Seen from the parent namespace the difference is visible, and root there may
// still read the child namespace's memory: its capabilities cover descendants.
TEST_F(PeerAccessInjection, TargetInAChildUserNamespaceSeenFromOutside) {
  const TargetProcess target(true);
  if (target.unshare_error() != 0) GTEST_SKIP() << "unshare(CLONE_NEWUSER): " << errno_name(target.unshare_error());
  EXPECT_TRUE(read_access_environment(target.pid()).peer_in_other_userns)
      << user_namespace_of(getpid()) << " vs " << user_namespace_of(target.pid());
  if (geteuid() == 0) {
    EXPECT_EQ(name_of(read_with_cma(target.pid(), target.buffer())), "0");
  }
}

}  // namespace
}  // namespace ipcatlas
