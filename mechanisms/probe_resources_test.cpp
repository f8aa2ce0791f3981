// A probe that runs out of file descriptors or processes fails: it never
// reports its mechanism as unavailable, and its reason names the call that
// failed, the errno and the limit. Reproduced for real in a forked child.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "harness/base/error.hpp"
#include "harness/testing/isolated.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

using testing::Report;
using testing::run_isolated;
using testing::value;

// "available", "unavailable: <reason>" or "failed: <reason>" for every mechanism that can run.
void probe_all(Report& out) {
  for (const Mechanism* m : all_mechanisms()) {
    if (!m->make_link) continue;  // knem, xpmem: listed only
    const Availability a = m->probe();
    out[std::string(m->id)] = a.available ? "available" : (a.failed ? "failed: " : "unavailable: ") + a.reason;
  }
}

// UBSan checks a vtable it has not met before through a pipe of its own,
// which fails when no descriptor is left: it would report the first SysError
// as an object with an invalid vptr. So it meets one while descriptors remain.
void meet_sys_error_first() { (void)SysError("UBSan warm-up", EIO).err(); }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

TEST(ProbeResources, OutOfFileDescriptorsEveryProbeThatOpensOneFails) {
  const Report report = run_isolated([](Report& out) {
    meet_sys_error_first();
    out["limit"] = std::to_string(testing::exhaust_file_descriptors());
    probe_all(out);
  });
  ASSERT_NE(value(report, "limit"), "-1");
  const std::string limit = "RLIMIT_NOFILE=" + value(report, "limit") + " open file descriptors";
  for (const char* id : {"pipe", "unix-stream", "unix-seqpacket", "vmsplice", "cma-read", "cma-write", "procmem-read",
                         "procmem-write", "ptrace"}) {
    const std::string outcome = value(report, id);
    EXPECT_TRUE(starts_with(outcome, "failed: EMFILE from ")) << id << ": " << outcome;
    EXPECT_NE(outcome.find(limit), std::string::npos) << id << ": " << outcome;
  }
  // The peer-memory probes open their pipes before any access is tried: the access is not blamed.
  const std::string procmem = value(report, "procmem-read");
  EXPECT_TRUE(starts_with(procmem, "failed: EMFILE from pipe2: ")) << procmem;
  EXPECT_EQ(value(report, "shm"), "available") << "anonymous shared memory needs no descriptor";
  EXPECT_EQ(value(report, "exit"), "0");
}

TEST(ProbeResources, OutOfProcessesEveryProbeThatForksFailsNamingFork) {
  const Report report = run_isolated([](Report& out) {
    out["setup"] = testing::exhaust_processes();
    out["uid"] = std::to_string(::getuid());
    probe_all(out);
  });
  ASSERT_EQ(value(report, "setup"), "");
  const std::string cause =
      "failed: EAGAIN from fork: the processes of uid " + value(report, "uid") + " have reached RLIMIT_NPROC=1";
  for (const char* id : {"cma-read", "cma-write", "procmem-read", "procmem-write", "ptrace"})
    EXPECT_TRUE(starts_with(value(report, id), cause)) << id << ": " << value(report, id);
  EXPECT_EQ(value(report, "pipe"), "available") << "the pipe probe does not fork";
  EXPECT_EQ(value(report, "exit"), "0");
}

}  // namespace
}  // namespace ipcatlas
