// The sibling probe really reads another process's memory, names its own
// call when that is what failed (pipe2 out of file descriptors, fork out of
// processes), reports what a seccomp filter or a user namespace does to the
// access, and leaves no process or fd behind.
#include "mechanisms/support/sibling_probe.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"
#include "mechanisms/support/access_causes.hpp"
#include "harness/testing/isolated.hpp"

namespace ipcatlas {
namespace {

using testing::Report;
using testing::run_isolated;
using testing::value;

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

using SiblingProbe = NothingLeftBehind;
using SiblingProbeInjection = NothingLeftBehind;

// "EPERM" for EPERM, "0" for success, so that reports read well in failures.
std::string name_of(int err) { return err == 0 ? "0" : errno_name(err); }

// As name_of(int), with the probe's own call first when that failed: "fork: EAGAIN".
std::string name_of(const SiblingResult& result) {
  return result.call.empty() ? name_of(result.err) : result.call + ": " + name_of(result.err);
}

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
  const int fd = ::open(fmt::format("/proc/{}/mem", target).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  unsigned char got[kBytes] = {};
  const ssize_t n = ::pread(fd, got, kBytes, static_cast<off_t>(reinterpret_cast<std::uintptr_t>(buffer)));
  const int err = errno;
  ::close(fd);
  if (n < 0) return err;
  return n == static_cast<ssize_t>(kBytes) ? check_pattern(got) : EIO;
}

TEST_F(SiblingProbe, CrossMemoryAttachReadsTheTargetsBytes) {
  const int err = try_sibling_access(read_with_cma).err;
  EXPECT_EQ(name_of(err), "0") << explain_access_failure("process_vm_readv", err, read_access_environment(0)).reason;
}

TEST_F(SiblingProbe, ProcPidMemReadsTheTargetsBytes) {
  const int err = try_sibling_access(read_with_proc_mem).err;
  EXPECT_EQ(name_of(err), "0") << explain_access_failure("open /proc/PID/mem", err, read_access_environment(0)).reason;
}

// The accessor and the target are both children of the caller, like two ranks.
TEST_F(SiblingProbe, AccessorAndTargetAreSiblings) {
  const pid_t caller = getpid();
  const SiblingResult result = try_sibling_access([caller](pid_t target, const void*) {
    const std::string ppid = field_value(read_file(fmt::format("/proc/{}/status", target)).text, "PPid");
    if (ppid.empty()) return ENOENT;
    return std::stoi(ppid) == caller && getppid() == caller ? 0 : ECHILD;
  });
  EXPECT_EQ(name_of(result), "0");
}

TEST_F(SiblingProbe, ReturnsTheAttemptsErrno) {
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) { return EXDEV; })), "EXDEV");
}

TEST_F(SiblingProbe, AnAccessorThatDiesWithoutReportingIsEio) {
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) -> int { throw std::runtime_error("boom"); })), "EIO");
  EXPECT_EQ(name_of(try_sibling_access([](pid_t, const void*) -> int { ::_exit(3); })), "EIO");
}

// The accessor also traces the target: a traced zombie can be reaped by its
// parent only once its tracer is gone, so cleanup must kill both before reaping.
TEST_F(SiblingProbe, AHangingAccessorThatTracesTheTargetTimesOutAndBothAreReaped) {
  const auto start = std::chrono::steady_clock::now();
  const SiblingResult result = try_sibling_access([](pid_t target, const void*) {
    if (::ptrace(PTRACE_SEIZE, target, nullptr, nullptr) != 0) return errno;
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 0;
  });
  EXPECT_EQ(name_of(result), "ETIMEDOUT");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// Out of file descriptors or processes, the probe's own call failed before
// any access was tried: that call is named, never the access.
TEST_F(SiblingProbe, RunningOutOfFileDescriptorsNamesPipe2) {
  const Report report = run_isolated([](Report& out) {
    out["limit"] = std::to_string(testing::exhaust_file_descriptors());
    out["result"] = name_of(try_sibling_access(read_with_cma));
  });
  ASSERT_NE(value(report, "limit"), "-1");
  EXPECT_EQ(value(report, "result"), "pipe2: EMFILE");
  EXPECT_EQ(value(report, "exit"), "0");
}

TEST_F(SiblingProbe, RunningOutOfProcessesNamesFork) {
  const Report report = run_isolated([](Report& out) {
    out["setup"] = testing::exhaust_processes();
    out["result"] = name_of(try_sibling_access(read_with_cma));
  });
  ASSERT_EQ(value(report, "setup"), "");
  EXPECT_EQ(value(report, "result"), "fork: EAGAIN");
  EXPECT_EQ(value(report, "exit"), "0");
}

// Answers process_vm_readv with EPERM, as a container profile would, and allows everything else
// (other ABIs included, as a container profile does, instead of libseccomp's default of killing).
// seccomp_load sets NO_NEW_PRIVS first, which a filter needs without CAP_SYS_ADMIN, so the test also
// runs unprivileged.
bool refuse_cma_with_eperm() {
  const scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  if (filter == nullptr) return false;
  int rc = seccomp_attr_set(filter, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  if (rc == 0) rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(process_vm_readv), 0);
  if (rc == 0) rc = seccomp_load(filter);
  seccomp_release(filter);
  if (rc != 0) errno = -rc;
  return rc == 0;
}

TEST_F(SiblingProbeInjection, SeccompFilterRefusingCmaIsNamed) {
  const Report report = run_isolated([](Report& out) {
    if (!refuse_cma_with_eperm()) {
      out["filter"] = name_of(errno);
      return;
    }
    out["filter"] = "installed";
    // The probe's children inherit the filter, as ranks forked in a container do.
    const int err = try_sibling_access(read_with_cma).err;
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
  const ssize_t n = ::readlink(fmt::format("/proc/{}/ns/user", pid).c_str(), target, sizeof target - 1);
  return n < 0 ? "unreadable: " + errno_name(errno) : std::string(target, static_cast<std::size_t>(n));
}

// From inside a new user namespace, a target in the parent namespace refuses
// CMA: capabilities held there count only there. On Linux 6.18 the target's
// /proc/PID/ns/user link is then unreadable too (reading it needs the same
// ptrace access), so read_access_environment cannot see the namespace
// difference and must not claim it; but our own uid_map shows that we are in
// a child namespace, and the classifier says so.
TEST_F(SiblingProbeInjection, AccessFromInsideAnotherUserNamespace) {
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
TEST_F(SiblingProbeInjection, TargetInAChildUserNamespaceSeenFromOutside) {
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
