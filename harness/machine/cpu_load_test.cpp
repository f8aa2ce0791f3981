// The cpu_load fact: busy and stolen shares from /proc/stat samples.
#include <gtest/gtest.h>

#include <string>

#include "harness/machine/machine_facts.hpp"
#include "harness/testing/fake_root.hpp"

namespace ipcatlas {
namespace {

using Verdict = Fact::Verdict;
using testing::FakeRoot;

// /proc/stat columns: user nice system idle iowait irq softirq steal guest guest_nice.
constexpr const char* kStatBefore = "cpu  300 0 300 2000 0 0 0 0 0 0\n"
                                    "cpu0 100 0 100 1000 0 0 0 0 0 0\n"
                                    "cpu1 200 0 200 1000 0 0 0 0 0 0\n";
constexpr const char* kStatAfter = "cpu  ...\n"
                                   "cpu0 101 0 100 1099 0 0 0 0 0 0\n"   // 1 of 100 jiffies busy
                                   "cpu1 240 0 210 1048 2 0 0 0 0 0\n";  // 50 of 100 busy

TEST(MachineFacts, CpuLoadFromIdenticalSamplesIsIdle) {
  const FakeRoot root;
  root.write("proc/stat", kStatBefore);
  const Fact f = cpu_load_fact({0, 1}, 0.01, root.str());
  EXPECT_EQ(f.key, "cpu_load");
  EXPECT_EQ(f.value, "PU 0: 0% busy, PU 1: 0% busy (over 0.01 s); steal 0%");
  EXPECT_EQ(f.verdict, Verdict::ok);
}

TEST(MachineFacts, CpuLoadWarnsAboutABusyPu) {
  const Fact f = cpu_load_from_samples(kStatBefore, kStatAfter, {0, 1}, 0.5);
  EXPECT_EQ(f.value, "PU 0: 1% busy, PU 1: 50% busy (over 0.5 s); steal 0%");
  EXPECT_EQ(f.verdict, Verdict::warn);
  EXPECT_NE(f.hint.find("another process is using PU 1:"), std::string::npos) << f.hint;
  EXPECT_EQ(cpu_load_from_samples(kStatBefore, kStatAfter, {0}, 0.5).verdict, Verdict::ok);
}

TEST(MachineFacts, CpuLoadWarnsAboutStealNotCountedAsBusy) {
  const Fact f = cpu_load_from_samples("cpu0 0 0 0 0 0 0 0 0 0 0\n", "cpu0 0 0 2 88 0 0 0 10 0 0\n", {0}, 1);
  EXPECT_EQ(f.value, "PU 0: 2% busy (over 1 s); steal 10%");
  EXPECT_EQ(f.verdict, Verdict::warn);
  EXPECT_NE(f.hint.find("hypervisor"), std::string::npos);
}

TEST(MachineFacts, CpuLoadNamesAPuMissingFromProcStat) {
  const Fact f = cpu_load_from_samples(kStatBefore, kStatAfter, {7}, 0.5);
  EXPECT_EQ(f.value, "PU 7: not in /proc/stat (over 0.5 s); steal 0%");
}

TEST(MachineFacts, CpuLoadUnreadableStat) {
  const FakeRoot root;
  const Fact f = cpu_load_fact({0}, 0, root.str());
  EXPECT_EQ(f.value, "unreadable: " + root.str() + "/proc/stat: ENOENT");
}

}  // namespace
}  // namespace ipcatlas
