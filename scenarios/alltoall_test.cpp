#include "scenarios/alltoall.hpp"

#include <gtest/gtest.h>

#include <set>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

using testing::cell;
using testing::start;

TEST(Alltoall, EveryStepIsAMatchingAndEveryPairMeetsOnce) {
  for (int n = 2; n <= 13; ++n) {
    std::set<std::pair<int, int>> met;
    std::vector<std::vector<int>> partners;
    for (int me = 0; me < n; ++me) partners.push_back(pairwise_partners(me, n));
    const std::size_t steps = partners[0].size();
    for (int me = 0; me < n; ++me) ASSERT_EQ(partners[static_cast<std::size_t>(me)].size(), steps) << n;
    for (std::size_t step = 0; step < steps; ++step) {
      for (int me = 0; me < n; ++me) {
        const int p = partners[static_cast<std::size_t>(me)][step];
        if (p < 0) continue;
        ASSERT_NE(p, me) << "n=" << n;
        ASSERT_EQ(partners[static_cast<std::size_t>(p)][step], me) << "n=" << n << " step " << step;
        met.insert({std::min(me, p), std::max(me, p)});
      }
    }
    EXPECT_EQ(met.size(), static_cast<std::size_t>(n * (n - 1) / 2)) << "n=" << n;
  }
}

TEST(Alltoall, TwoFourAndEightRanksCompleteValidated) {
  for (int ranks : {2, 4, 8}) {
    for (const char* mechanism : {"shm", "cma-read", "cma-write", "pipe"}) {
      auto session = start("alltoall", cell(mechanism, 4099, ranks));
      session->run_batch(2);
      const Measurement m = session->run_batch(10);
      const auto& k = m.counters;
      EXPECT_GT(k.at("round_ns"), 0) << mechanism << " " << ranks;
      EXPECT_LE(k.at("fastest_rank_ns"), k.at("slowest_rank_ns"));
      EXPECT_LE(k.at("slowest_rank_ns"), k.at("round_ns") * 1.0001);
      EXPECT_DOUBLE_EQ(k.at("bytes_per_second"), ranks * (ranks - 1) * 4099.0 / (k.at("round_ns") * 1e-9));
      EXPECT_DOUBLE_EQ(k.at("per_message_ns"), k.at("slowest_rank_ns") / (2.0 * (ranks - 1)));
    }
  }
}

TEST(Alltoall, ACorruptedMessageFailsTheRound) {
  CellSpec c = cell("shm", 1000, 4);
  c.test.fault.kind = FaultPlan::Kind::corrupt;
  const std::string message = testing::failure_of("alltoall", c);
  EXPECT_NE(message.find("payload mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find("-> rank 1, 1000 bytes): first bad byte at offset 500"), std::string::npos) << message;
}

TEST(Alltoall, ADeadRankIsReported) {
  CellSpec c = cell("cma-read", 64, 4);
  c.test.fault.kind = FaultPlan::Kind::kill;
  EXPECT_NE(testing::failure_of("alltoall", c).find("was killed by signal 9"), std::string::npos);
}

}  // namespace
}  // namespace ipcatlas
