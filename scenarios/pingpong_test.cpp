// The ping-pong scenario through its real session: ranks forked, the mechanism
// used for real, tiny iteration counts.
#include <gtest/gtest.h>

#include "harness/ranks/launcher.hpp"
#include "mechanisms/registry.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {
namespace {

const Topology& topology() {
  static const Topology t = Topology::load_this_machine();
  return t;
}

CellSpec cell(const char* mechanism, std::size_t size, WaitPolicy wait = WaitPolicy::spin) {
  CellSpec c;
  c.mechanism = find_mechanism(mechanism);
  c.size = size;
  const std::vector<int> pus = topology().allowed_pus();
  c.cpus = {pus.front(), pus.back()};
  c.wait = pus.size() > 1 ? wait : WaitPolicy::block;
  c.watchdog_seconds = 10;
  return c;
}

std::unique_ptr<ScenarioSession> start(const CellSpec& c) { return find_scenario("pingpong")->start(topology(), c); }

// The message of the RankFailure a session raises within a few batches.
std::string failure_of(const CellSpec& c) {
  auto session = start(c);
  try {
    for (int batch = 0; batch < 3; ++batch) session->run_batch(300);
  } catch (const RankFailure& e) {
    return e.what();
  }
  return "";
}

TEST(PingPong, CountersDescribeTheBatch) {
  auto session = start(cell("shm", 64));
  session->run_batch(10);  // calibration-sized batch first, as Google Benchmark does
  const Measurement m = session->run_batch(3000);
  const auto& k = m.counters;
  EXPECT_GT(m.seconds_per_iteration, 0);
  EXPECT_DOUBLE_EQ(k.at("one_way_ns"), m.seconds_per_iteration * 1e9 / 2);
  EXPECT_DOUBLE_EQ(k.at("bytes_per_second"), 64 / (k.at("one_way_ns") * 1e-9));
  EXPECT_EQ(k.at("samples"), 3000);
  EXPECT_LE(k.at("p50_ns"), k.at("p99_ns"));
  EXPECT_LE(k.at("p99_ns"), k.at("p999_ns"));
  EXPECT_LE(k.at("p999_ns"), k.at("max_ns"));
  // Rank 1's intervals and rank 0's clock time the same round trips.
  EXPECT_NEAR(k.at("samples_mean_ns") / k.at("one_way_ns"), 1.0, 0.25);
}

TEST(PingPong, EveryMechanismRunsZeroAndOddSizes) {
  for (const Mechanism* m : all_mechanisms()) {
    if (!m->probe().available) continue;
    for (std::size_t size : {0u, 1u, 33u, 70000u}) {
      // Beyond its size cap a mechanism is slow by design (ptrace moves 8
      // bytes a system call: ~16 ms one way at 64K on an EPYC VM), so fewer
      // round trips keep the batch inside the watchdog.
      const bool beyond_cap = m->default_size_cap > 0 && size > m->default_size_cap;
      const std::uint64_t iterations = beyond_cap ? 20 : 500;
      auto session = start(cell(std::string(m->id).c_str(), size));
      const Measurement r = session->run_batch(iterations);
      EXPECT_GT(r.counters.at("one_way_ns"), 0) << m->id << " " << size;
      EXPECT_EQ(r.counters.at("samples"), static_cast<double>(iterations)) << m->id << " " << size;
    }
  }
}

// Cold: every message from and into another buffer of a pool. The pool is
// small here (the rotation is what is tested; buffer_pool_test.cpp checks
// the real size); every batch checks messages in full, as in a run.
TEST(PingPong, ColdBuffersCarryEveryMessageIntactForEveryMechanism) {
  for (const Mechanism* m : all_mechanisms()) {
    if (!m->probe().available) continue;
    for (std::size_t size : {1u, 70001u}) {
      CellSpec c = cell(std::string(m->id).c_str(), size, WaitPolicy::block);
      c.cache = CacheState::cold;
      c.cold_pool_bytes = 256 << 10;
      c.test.buffer_offset = size == 1 ? 0 : 13;
      const std::string why_not = cache_cannot_serve(c);
      if (m->moves == Moves::none) {
        EXPECT_NE(why_not.find("no buffer to rotate"), std::string::npos) << m->id;
        continue;
      }
      ASSERT_EQ(why_not, "") << m->id;
      const bool beyond_cap = m->default_size_cap > 0 && size > m->default_size_cap;
      auto session = start(c);
      for (int batch = 0; batch < 2; ++batch)
        EXPECT_GT(session->run_batch(beyond_cap ? 5 : 100).counters.at("one_way_ns"), 0) << m->id << " " << size;
    }
  }
}

TEST(PingPong, ColdPoolsOfSegmentedMessagesKeepEverySegmentAndGap) {
  for (const char* mechanism : {"shm", "cma-read", "procmem-write", "pipe", "vmsplice"}) {
    CellSpec c = cell(mechanism, 65537, WaitPolicy::block);
    if (!c.mechanism->probe().available) continue;
    c.cache = CacheState::cold;
    c.cold_pool_bytes = 512 << 10;
    c.segments = 7;
    auto session = start(c);
    for (int batch = 0; batch < 2; ++batch) EXPECT_GT(session->run_batch(50).counters.at("one_way_ns"), 0) << mechanism;
  }
}

TEST(PingPong, ACorruptedPayloadFailsInAColdPoolToo) {
  CellSpec c = cell("shm", 4096);
  c.cache = CacheState::cold;
  c.cold_pool_bytes = 64 << 10;
  c.test.fault.kind = FaultPlan::Kind::corrupt;
  EXPECT_NE(failure_of(c).find("first bad byte at offset 2048"), std::string::npos);
}

TEST(PingPong, BlockingWaitsWorkToo) {
  auto session = start(cell("shm", 100000, WaitPolicy::block));
  EXPECT_GT(session->run_batch(200).counters.at("one_way_ns"), 0);
}

TEST(PingPong, ACorruptedPayloadFailsNamingTheFirstBadByte) {
  for (const char* mechanism : {"shm", "zerocopy", "pipe"}) {
    CellSpec c = cell(mechanism, 4096);
    c.test.fault.kind = FaultPlan::Kind::corrupt;
    const std::string message = failure_of(c);
    EXPECT_NE(message.find("payload mismatch in message"), std::string::npos) << mechanism << ": " << message;
    EXPECT_NE(message.find("rank 0 -> rank 1, 4096 bytes): first bad byte at offset 2048"), std::string::npos)
        << mechanism << ": " << message;
  }
}

TEST(PingPong, AStampCorruptionIsCaughtOnTheVeryMessage) {
  CellSpec c = cell("shm", 8);  // the flipped byte (offset 4) lies in the stamp
  c.test.fault.kind = FaultPlan::Kind::corrupt;
  const std::string message = failure_of(c);
  EXPECT_NE(message.find("first bad byte at offset 4"), std::string::npos) << message;
}

TEST(PingPong, AKilledRankFailsTheBatch) {
  CellSpec c = cell("pipe", 64);
  c.test.fault.kind = FaultPlan::Kind::kill;
  EXPECT_NE(failure_of(c).find("was killed by signal 9 (SIGKILL)"), std::string::npos);
}

TEST(PingPong, AHungRankIsReportedByTheWatchdog) {
  CellSpec c = cell("shm", 64);
  c.test.fault.kind = FaultPlan::Kind::hang;
  c.watchdog_seconds = 0.5;
  const std::string message = failure_of(c);
  EXPECT_NE(message.find("hung: no progress after"), std::string::npos) << message;
}

TEST(PingPong, UnalignedBuffersMeasureToo) {
  CellSpec c = cell("shm", 5000);
  c.test.buffer_offset = 13;
  auto session = start(c);
  EXPECT_GT(session->run_batch(100).counters.at("one_way_ns"), 0);
}

}  // namespace
}  // namespace ipcatlas
