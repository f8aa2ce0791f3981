// CPU time per message: the arithmetic, and plausibility on real runs. The
// runs check ratios within one run (where the CPU goes: into the kernel for a
// pipe, into user-space copies for shm), never absolute speed, with margins
// wide enough for a shared, noisy machine.
#include "scenarios/support/cpu_meter.hpp"

#include <gtest/gtest.h>

#include "harness/base/clock.hpp"
#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

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
  volatile std::uint64_t sink = 0;
  const std::uint64_t end = now_ns() + 30'000'000;  // 30 ms of user time, clock reads through the vDSO
  while (now_ns() < end) sink = sink + 1;
  const RankCpu cpu = meter.stop(3);
  EXPECT_GE(cpu.user_ns + cpu.sys_ns, 5'000'000u) << "most of 30 ms spinning, even on a busy machine";
  EXPECT_LE(cpu.user_ns + cpu.sys_ns, 2'000'000'000u);
  EXPECT_EQ(cpu.messages, 3u);
}

Measurement pingpong_1m(const char* mechanism, WaitPolicy wait, std::uint64_t round_trips) {
  CellSpec c = testing::cell(mechanism, std::size_t{1} << 20, 2);
  c.wait = wait;
  return testing::start("pingpong", c)->run_batch(round_trips);
}

// A pipe copies in write() and read(): the CPU is system time.
TEST(CpuPlausibility, PipeAt1MiBSpendsItsCpuInTheKernel) {
  const Measurement m = pingpong_1m("pipe", WaitPolicy::block, 150);
  const auto& k = m.counters;
  EXPECT_GT(k.at("cpu_sys_ns"), 3 * k.at("cpu_user_ns"))
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
  EXPECT_GT(k.at("cpu_user_ns"), 3 * k.at("cpu_sys_ns"))
      << "sys " << k.at("cpu_sys_ns") << " user " << k.at("cpu_user_ns");
  EXPECT_LE(k.at("cpu_ns"), 2 * 1.5 * k.at("one_way_ns"));
}

}  // namespace
}  // namespace ipcatlas
