#include "harness/machine/topology.hpp"

#include <gtest/gtest.h>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

// 2 packages x 2 NUMA nodes x 2 L3 x 2 L2 ... : every placement class exists.
// Synthetic PU os_index follows logical order.
constexpr const char* kBigMachine = "pack:2 numa:2 l3:1 l2:2 core:2 pu:2";

TEST(Topology, PlacementClassesFromTheCommonAncestor) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  EXPECT_EQ(t.placement_class({0}), "self");
  EXPECT_EQ(t.placement_class({0, 1}), "smt");      // two PUs of one core
  EXPECT_EQ(t.placement_class({0, 2}), "l2");       // cores sharing an L2
  EXPECT_EQ(t.placement_class({0, 4}), "l3");       // L2s under one L3 (one per NUMA node here)
  EXPECT_EQ(t.placement_class({0, 8}), "numa");     // same package, other NUMA node
  EXPECT_EQ(t.placement_class({0, 16}), "socket");  // other package
}

TEST(Topology, DefaultPairSharesTheClosestCacheAndAvoidsCoreZero) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const std::vector<int> pair = t.default_pair();
  ASSERT_EQ(pair.size(), 2u);
  EXPECT_EQ(t.placement_class(pair), "l2");
  EXPECT_NE(pair[0], 0);
  EXPECT_NE(pair[1], 0);
}

TEST(Topology, DefaultPairOnTwoCoresUsesBoth) {
  const Topology t = Topology::load_synthetic("pack:1 l3:1 l2:2 core:1 pu:1");
  EXPECT_EQ(t.default_pair(), (std::vector<int>{0, 1}));
  EXPECT_EQ(t.placement_class({0, 1}), "l3");
}

TEST(Topology, LastLevelCacheIsTheLargestAboveTheRanks) {
  const Topology t = Topology::load_synthetic("pack:2 l3:1(size=32MiB) l2:2(size=1MiB) core:1 pu:1");
  EXPECT_EQ(t.last_level_cache_bytes({0, 1}), std::size_t{32} << 20);  // one shared L3
  EXPECT_EQ(t.last_level_cache_bytes({0, 2}), std::size_t{32} << 20);  // two packages: each its own L3
  EXPECT_EQ(Topology::load_synthetic("pack:1 core:2 pu:1").last_level_cache_bytes({0, 1}), 0u);
}

TEST(Topology, NoPairOnASingleCore) {
  const Topology t = Topology::load_synthetic("pack:1 core:1 pu:2");
  EXPECT_THROW(t.default_pair(), UsageError);
}

TEST(Topology, ValidatePusNamesTheProblem) {
  const Topology t = Topology::load_synthetic("pack:1 core:2 pu:1");
  EXPECT_NO_THROW(t.validate_pus({0, 1}));
  try {
    t.validate_pus({0, 9});
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("CPU 9 does not exist"), std::string::npos) << e.what();
  }
  try {
    t.validate_pus({1, 1});
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("CPU 1 is given twice"), std::string::npos) << e.what();
  }
}

TEST(Topology, SummaryCountsWhatExists) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const std::string s = t.summary();
  EXPECT_NE(s.find("2 packages, 4 NUMA nodes, 16 cores, 32 PUs (SMT on)"), std::string::npos) << s;
}

TEST(Topology, ThisMachinePinsAndReportsWhereItRuns) {
  const Topology t = Topology::load_this_machine();
  const std::vector<int> pus = t.allowed_pus();
  ASSERT_FALSE(pus.empty());
  EXPECT_NO_THROW(t.validate_pus({pus.back()}));
  pin_this_process(t, pus.back());
  EXPECT_EQ(current_pu(t), pus.back());
  // Leave the test process free to run anywhere again.
  hwloc_bitmap_t all = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t.handle()));
  hwloc_set_cpubind(t.handle(), all, HWLOC_CPUBIND_PROCESS);
  hwloc_bitmap_free(all);
}

TEST(Topology, LoadingAMissingXmlIsAUsageError) {
  EXPECT_THROW(Topology::load_xml("/nonexistent/topology.xml"), UsageError);
}

}  // namespace
}  // namespace ipcatlas
