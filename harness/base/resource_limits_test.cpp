// resource_limits: the reason of a resource failure names the call, the errno
// and the limit as this process has it; probe_error tells resource failures
// (failed) from every other error (unavailable).
#include "harness/base/resource_limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "harness/base/error.hpp"
#include "harness/testing/isolated.hpp"

namespace ipcatlas {
namespace {

using testing::Report;
using testing::run_isolated;
using testing::value;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ResourceLimits, OnlyRunningOutOfSomethingIsAResourceErrno) {
  for (const int err : {EAGAIN, EMFILE, ENFILE, ENOMEM}) EXPECT_TRUE(is_resource_errno(err)) << errno_name(err);
  for (const int err : {0, EPERM, EACCES, ENOSYS, ENOENT, ESRCH, EIO, EFAULT}) EXPECT_FALSE(is_resource_errno(err));
}

// The limit as the child sets it, read back in the reason.
TEST(ResourceLimits, TheReasonNamesTheCallTheErrnoAndTheLimitInForce) {
  const Report report = run_isolated([](Report& out) {
    const rlimit files{5, 5};
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return;
    const Availability a = resource_failure("pipe2", EMFILE);
    out["reason"] = a.reason;
    out["fix"] = a.fix;
    out["failed"] = a.failed && !a.available ? "yes" : "no";
  });
  EXPECT_EQ(value(report, "reason"),
            "EMFILE from pipe2: this process has reached RLIMIT_NOFILE=5 open file descriptors");
  EXPECT_TRUE(contains(value(report, "fix"), "ulimit -n")) << value(report, "fix");
  EXPECT_EQ(value(report, "failed"), "yes");
}

// RLIMIT_AS stays as it is: sanitizer builds reserve terabytes of address space.
TEST(ResourceLimits, MemoryAndSystemWideFilesNameTheirLimits) {
  rlimit as{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &as), 0);
  const std::string as_text = as.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(as.rlim_cur);
  const Availability memory = resource_failure("mmap", ENOMEM);
  EXPECT_TRUE(memory.failed);
  EXPECT_TRUE(contains(memory.reason, "ENOMEM from mmap: memory ran out: RLIMIT_AS=" + as_text + " bytes"))
      << memory.reason;
  const Availability files = resource_failure("socketpair", ENFILE);
  EXPECT_TRUE(files.failed);
  EXPECT_TRUE(contains(files.reason, "ENFILE from socketpair: the system's open files have reached fs.file-max="))
      << files.reason;
}

// A real fork refused by RLIMIT_NPROC (as nobody when run as root: the kernel exempts root).
TEST(ResourceLimits, AForkRefusedByRlimitNprocNamesTheLimitAndTheUser) {
  const Report report = run_isolated([](Report& out) {
    out["setup"] = testing::exhaust_processes();
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid > 0) return;
    out["reason"] = resource_failure("fork", errno).reason;
  });
  ASSERT_EQ(value(report, "setup"), "");
  const std::string reason = value(report, "reason");
  EXPECT_TRUE(contains(reason, "EAGAIN from fork: the processes of uid ")) << reason;
  EXPECT_TRUE(contains(reason, "have reached RLIMIT_NPROC=1")) << reason;
  if (::getuid() == 0) {
    EXPECT_TRUE(contains(reason, "uid 65534")) << reason;
  }
}

// Root is exempt from RLIMIT_NPROC: blaming it would send the user the wrong way.
TEST(ResourceLimits, ForRootAForkFailureBlamesThePidsCgroup) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root";
  const std::string reason = resource_failure("fork", EAGAIN).reason;
  EXPECT_TRUE(contains(reason, "does not bind uid 0")) << reason;
  EXPECT_TRUE(contains(reason, "pids.max")) << reason;
}

TEST(ResourceLimits, EagainFromAnythingButForkIsAShortageNotTheProcessLimit) {
  const std::string reason = resource_failure("mmap", EAGAIN).reason;
  EXPECT_TRUE(contains(reason, "EAGAIN from mmap: the kernel was short of a resource")) << reason;
  EXPECT_FALSE(contains(reason, "RLIMIT_NPROC")) << reason;
}

TEST(ResourceLimits, ProbeErrorFailsOnlyForResourceErrnos) {
  const Availability out_of_files = probe_error(SysError("socketpair", EMFILE), "the fix");
  EXPECT_TRUE(out_of_files.failed);
  EXPECT_TRUE(contains(out_of_files.reason, "EMFILE from socketpair: ")) << out_of_files.reason;
  EXPECT_TRUE(contains(out_of_files.fix, "ulimit -n")) << out_of_files.fix;

  const Availability refused = probe_error(SysError("socketpair", EPERM), "the fix");
  EXPECT_FALSE(refused.available);
  EXPECT_FALSE(refused.failed);
  EXPECT_EQ(refused.reason, "socketpair: EPERM (Operation not permitted)");
  EXPECT_EQ(refused.fix, "the fix");

  const Availability other = probe_error(std::runtime_error("the byte did not come back"), "the fix");
  EXPECT_FALSE(other.failed);
  EXPECT_EQ(other.reason, "the byte did not come back");
}

}  // namespace
}  // namespace ipcatlas
