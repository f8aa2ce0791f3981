// CPU time per message: the arithmetic, and plausibility on real runs. The
// runs check ratios within one run (where the CPU goes: into the kernel for a
// pipe, into user-space copies for shm), never absolute speed, with margins
// wide enough for a shared, noisy machine.
#include "scenarios/support/cpu_meter.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

// Spins until this thread has run for `ms` of CPU (its own clock), however
// loaded the machine is.
void spin_cpu_ms(std::uint64_t ms) {
  timespec t;
  const auto cpu_ns = [&t] {
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
  };
  const std::uint64_t end = cpu_ns() + ms * 1'000'000;
  while (cpu_ns() < end) {
  }
}

TEST(CpuCounters, AreEachRanksCpuPerMessageAndTheirSum) {
  const RankCpu ranks[] = {{3000, 1000, 0, 0, 10, false}, {500, 8000, 0, 0, 10, false}};
  Measurement m;
  add_cpu_counters(m, ranks);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_user_r0_ns"), 300);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_sys_r0_ns"), 100);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_user_r1_ns"), 50);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_sys_r1_ns"), 800);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_user_ns"), 350);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_sys_ns"), 900);
  EXPECT_DOUBLE_EQ(m.counters.at("cpu_ns"), 1250);
  EXPECT_EQ(m.counters.count("cycles"), 0u) << "no rank counted events";
}

TEST(CpuCounters, EventCountsAppearOnlyWhenEveryRankCounted) {
  RankCpu ranks[] = {{0, 0, 1000, 10, 10, true}, {0, 0, 3000, 30, 10, true}};
  Measurement counted;
  add_cpu_counters(counted, ranks);
  EXPECT_DOUBLE_EQ(counted.counters.at("cycles_r1"), 300);
  EXPECT_DOUBLE_EQ(counted.counters.at("llc_misses_r0"), 1);
  EXPECT_DOUBLE_EQ(counted.counters.at("cycles"), 400);
  EXPECT_DOUBLE_EQ(counted.counters.at("llc_misses"), 4);
  ranks[1].counted = false;
  Measurement partial;
  add_cpu_counters(partial, ranks);
  EXPECT_EQ(partial.counters.count("cycles"), 0u);
  EXPECT_EQ(partial.counters.count("cycles_r0"), 0u);
  EXPECT_EQ(rank_counter_name("cpu_user_r{rank}_ns", 63), "cpu_user_r63_ns");
}

TEST(CpuMeter, MeasuresThisThreadsUserAndSystemTime) {
  CpuMeter meter;
  meter.start();
  spin_cpu_ms(30);
  const RankCpu cpu = meter.stop(3);
  EXPECT_GE(cpu.user_ns + cpu.sys_ns, 29'000'000u) << "the total is exact (only the split is sampled)";
  EXPECT_LE(cpu.user_ns + cpu.sys_ns, 2'000'000'000u);
  EXPECT_EQ(cpu.messages, 3u);
}

// The event path of a rank, with software events (task clock as "cycles", page
// faults as "misses"), which every kernel counts, unlike this VM's missing PMU.
TEST(CpuMeter, CountsEventsWhereTheKernelAllowsThem) {
  const PerfEvent software[] = {{"task clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
                                {"page faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS}};
  CpuMeter meter(software);
  ASSERT_TRUE(meter.counts_events());
  meter.start();
  spin_cpu_ms(20);
  const RankCpu cpu = meter.stop(1);
  EXPECT_TRUE(cpu.counted);
  EXPECT_GE(cpu.cycles, 19e6) << "task clock ns over 20 ms of CPU";
  EXPECT_GE(cpu.llc_misses, 0);
  const RankCpu ranks[] = {cpu, cpu};
  Measurement m;
  add_cpu_counters(m, ranks);
  EXPECT_DOUBLE_EQ(m.counters.at("cycles"), 2 * cpu.cycles);
}

// The rank's user/system split is cumulative since it started, scaled from tick
// samples (cpu_meter.cpp), so a region just after setup inherits part of
// setup's split (filling and checking buffers: user time). A first batch
// puts the mechanism's own work behind the split before the measured one.
Measurement pingpong_1m(const char* mechanism, WaitPolicy wait, std::uint64_t round_trips) {
  CellSpec c = testing::cell(mechanism, std::size_t{1} << 20, 2);
  c.wait = wait;
  const auto session = testing::start("pingpong", c);
  session->run_batch(round_trips / 2);
  return session->run_batch(round_trips);
}

// A pipe copies in write() and read(): the CPU is system time.
TEST(CpuPlausibility, PipeAt1MiBSpendsItsCpuInTheKernel) {
  const Measurement m = pingpong_1m("pipe", WaitPolicy::block, 150);
  const auto& k = m.counters;
  EXPECT_GT(k.at("cpu_sys_ns"), 2 * k.at("cpu_user_ns"))
      << "sys " << k.at("cpu_sys_ns") << " user " << k.at("cpu_user_ns");
  // Two ranks cannot spend more CPU than twice the elapsed time (each message's share: one_way_ns).
  EXPECT_LE(k.at("cpu_ns"), 2 * 1.5 * k.at("one_way_ns"));
  EXPECT_GT(k.at("cpu_ns"), 0);
}

// shm copies with memcpy in both ranks and, spinning, never enters the
// kernel: the CPU is user time. (Under --wait block each of a 1 MiB
// message's 16 fragment hand-offs may sleep in a futex; on a loaded 2-vCPU
// VM that cost as much system time as the copies did user time, so block
// says nothing robust about shm here.)
TEST(CpuPlausibility, ShmAt1MiBSpendsItsCpuInUserSpace) {
  const Measurement m = pingpong_1m("shm", WaitPolicy::spin, 300);
  const auto& k = m.counters;
  EXPECT_GT(k.at("cpu_user_ns"), 2 * k.at("cpu_sys_ns"))
      << "sys " << k.at("cpu_sys_ns") << " user " << k.at("cpu_user_ns");
  EXPECT_LE(k.at("cpu_ns"), 2 * 1.5 * k.at("one_way_ns"));
}

}  // namespace
}  // namespace ipcatlas
