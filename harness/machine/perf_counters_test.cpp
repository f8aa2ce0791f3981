// The perf_event path the ranks use, exercised with software events (which
// every kernel has, unlike a VM's hardware counters), and the reasons given
// when the kernel refuses.
#include "harness/machine/perf_counters.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <dirent.h>

#include "harness/testing/fake_root.hpp"

namespace ipcatlas {
namespace {

constexpr PerfEvent kTaskClock{"task clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK};
constexpr PerfEvent kPageFaults{"page faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS};
constexpr PerfEvent kMinorFaults{"minor faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN};

int open_fds() {
  int n = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir)) ++n;
  closedir(dir);
  return n;
}

// Both events come from the same software PMU. Linux 6.18 mostly reads 0
// for a member from another software PMU (page faults under a task-clock
// leader), while hardware groups (kRankEvents: cycles and LLC misses) share
// the CPU's PMU.
TEST(PerfCounters, ASoftwareGroupCountsTheLeaderAndItsMember) {
  const PerfEvent events[] = {kPageFaults, kMinorFaults};
  std::string why;
  const auto group = PerfCounterGroup::open(events, why);
  ASSERT_NE(group, nullptr) << why;
  const PerfReading before = group->read();
  constexpr std::size_t kPages = 64;
  const long page = sysconf(_SC_PAGESIZE);
  void* memory = mmap(nullptr, kPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  for (std::size_t i = 0; i < kPages; ++i) static_cast<volatile char*>(memory)[i * page] = 1;
  munmap(memory, kPages * page);
  const std::vector<double> counts = perf_delta(before, group->read());
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_GE(counts[0], static_cast<double>(kPages)) << "the leader: a fault per touched page";
  EXPECT_GE(counts[1], static_cast<double>(kPages)) << "the member: a minor fault per touched page";
  EXPECT_LE(counts[1], counts[0]) << "minor faults are a part of all faults";
}

TEST(PerfCounters, ARefusedEventSaysWhyAndLeavesNoDescriptor) {
  const int fds = open_fds();
  const PerfEvent events[] = {kTaskClock, {"nonsense", PERF_TYPE_HARDWARE, 0xffff}};
  std::string why;
  EXPECT_EQ(PerfCounterGroup::open(events, why), nullptr);
  EXPECT_NE(why.find("from perf_event_open(nonsense)"), std::string::npos) << why;
  EXPECT_EQ(open_fds(), fds);
}

TEST(PerfCounters, DeltasAreScaledWhenTheKernelMultiplexed) {
  const PerfReading before{{100, 10}, 1000, 1000};
  const PerfReading after{{400, 60}, 3000, 2000};  // ran half the time it was enabled
  const std::vector<double> counts = perf_delta(before, after);
  EXPECT_DOUBLE_EQ(counts[0], 600);
  EXPECT_DOUBLE_EQ(counts[1], 100);
}

TEST(PerfCounters, ReasonsNameTheMissingPmuAndTheParanoidSetting) {
  testing::FakeRoot root;
  root.write("proc/sys/kernel/perf_event_paranoid", "3\n");
  EXPECT_NE(perf_open_reason(kCyclesEvent, ENOENT, root.str()).find("not supported in this VM"), std::string::npos);
  root.write("sys/bus/event_source/devices/cpu/type", "4\n");
  EXPECT_NE(perf_open_reason(kCyclesEvent, ENOENT, root.str()).find("PMU does not offer"), std::string::npos);
  const std::string denied = perf_open_reason(kCyclesEvent, EACCES, root.str());
  EXPECT_NE(denied.find("EACCES from perf_event_open(cycles)"), std::string::npos) << denied;
  EXPECT_NE(denied.find("perf_event_paranoid is 3"), std::string::npos) << denied;
}

TEST(PerfCounters, TheDoctorFactSaysWhetherRanksCanCount) {
  const Fact fact = perf_counters_fact();
  EXPECT_EQ(fact.key, "perf_counters");
  std::string why;
  const bool available = PerfCounterGroup::open(kRankEvents, why) != nullptr;
  EXPECT_EQ(fact.value.rfind(available ? "cycles" : "unavailable: ", 0), 0u) << fact.value;
}

}  // namespace
}  // namespace ipcatlas
