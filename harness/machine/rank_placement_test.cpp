// place_ranks (explicit PUs, a named placement, the default spread) and the
// text of `list --placements`.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/machine/placement.hpp"
#include "harness/machine/placement_test_support.hpp"

namespace ipcatlas {
namespace {

using namespace placement_testing;

// --- place_ranks --------------------------------------------------------------

TEST(Placement, ExplicitCpusAreUsedInOrder) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const RankPlacement r = place_ranks(t, 2, {17, 3}, "");
  EXPECT_EQ(r.pus, (std::vector<int>{17, 3}));
  EXPECT_EQ(r.placement, "socket");
  EXPECT_FALSE(r.oversubscribed);
  EXPECT_EQ(place_ranks(t, 2, {2, 3}, "").placement, "smt");
}

TEST(Placement, FewerCpusThanRanksAreSharedRoundRobin) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const RankPlacement r = place_ranks(t, 5, {4, 6}, "");
  EXPECT_EQ(r.pus, (std::vector<int>{4, 6, 4, 6, 4}));
  EXPECT_EQ(r.placement, "l2");
  EXPECT_TRUE(r.oversubscribed);
  const RankPlacement one = place_ranks(t, 3, {7}, "");
  EXPECT_EQ(one.pus, (std::vector<int>{7, 7, 7}));
  EXPECT_EQ(one.placement, "self");
  EXPECT_TRUE(one.oversubscribed);
}

TEST(Placement, BadCpusAreUsageErrors) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  EXPECT_NE(usage_error([&] {
              place_ranks(t, 2, {1, 2, 3}, "");
            }).find("--cpus gives 3 PUs but the scenario runs 2 ranks"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { place_ranks(t, 2, {5, 5}, ""); }).find("CPU 5 is given twice"), std::string::npos);
  EXPECT_NE(usage_error([&] { place_ranks(t, 2, {1, 99}, ""); }).find("CPU 99 does not exist"), std::string::npos);
  allow_only(t, "0-15");
  EXPECT_NE(usage_error([&] { place_ranks(t, 2, {1, 16}, ""); }).find("CPU 16 is not allowed"), std::string::npos);
  EXPECT_NE(usage_error([&] { place_ranks(t, 2, {1, 2}, "l2"); }).find("not both"), std::string::npos);
  EXPECT_THROW(place_ranks(t, 0, {}, ""), UsageError);
}

TEST(Placement, NamedPlacementIsTheOneListed) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  for (int ranks : {2, 4, 8}) {
    for (const NamedPlacement& p : named_placements(t, ranks)) {
      const RankPlacement r = place_ranks(t, ranks, {}, p.name);
      EXPECT_EQ(r.pus, p.pus) << p.name;
      EXPECT_EQ(r.placement, p.name);
      EXPECT_FALSE(r.oversubscribed);
    }
  }
}

TEST(Placement, UnknownOrAbsentPlacementNamesWhatExists) {
  const Topology two_cores = Topology::load_synthetic(kTwoCores);
  EXPECT_EQ(usage_error([&] { place_ranks(two_cores, 2, {}, "numa"); }),
            "placement 'numa' does not exist on this machine (it has: l3)");
  EXPECT_EQ(usage_error([&] { place_ranks(two_cores, 2, {}, "smt"); }),
            "placement 'smt' does not exist on this machine (it has: l3)");
  const std::string unknown = usage_error([&] { place_ranks(two_cores, 2, {}, "L3"); });
  EXPECT_NE(unknown.find("unknown placement 'L3'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("smt, l2, l3, numa, socket"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("this machine has: l3"), std::string::npos) << unknown;
  // The class exists, but not for this many ranks.
  const Topology big = Topology::load_synthetic(kBigMachine);
  const std::string too_many = usage_error([&] { place_ranks(big, 4, {}, "smt"); });
  EXPECT_NE(too_many.find("placement 'smt' cannot host 4 ranks"), std::string::npos) << too_many;
  EXPECT_NE(too_many.find("no core has 4 PUs, at most 2"), std::string::npos) << too_many;
  EXPECT_NE(too_many.find("it has: l3, numa, socket"), std::string::npos) << too_many;
  EXPECT_NE(usage_error([&] { place_ranks(big, 1, {}, "socket"); }).find("needs 2 or more ranks"), std::string::npos);
}

TEST(Placement, DefaultForTwoRanksIsTheDefaultPair) {
  for (const char* description : {kBigMachine, kTwoCores, kShippedDescription}) {
    const Topology t = Topology::load_synthetic(description);
    const RankPlacement r = place_ranks(t, 2, {}, "");
    EXPECT_EQ(r.pus, t.default_pair()) << description;
    EXPECT_EQ(r.placement, t.placement_class(t.default_pair()));
    EXPECT_FALSE(r.oversubscribed);
  }
  // No package has two cores: the spread rule instead of an error.
  const RankPlacement smt = place_ranks(Topology::load_synthetic(kOneSmtCore), 2, {}, "");
  EXPECT_EQ(smt.pus, (std::vector<int>{0, 1}));
  EXPECT_EQ(smt.placement, "smt");
  const RankPlacement socket = place_ranks(Topology::load_synthetic("pack:2 core:1 pu:1"), 2, {}, "");
  EXPECT_EQ(socket.placement, "socket");
}

TEST(Placement, DefaultForMoreRanksSpreadsOverCores) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const RankPlacement four = place_ranks(t, 4, {}, "");
  EXPECT_FALSE(four.oversubscribed);
  EXPECT_TRUE(distinct_cores(t, four.pus)) << join(four.pus);
  EXPECT_EQ(histogram(four.pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_PACKAGE); }),
            (std::map<int, int>{{0, 2}, {1, 2}}));
  EXPECT_EQ(four.placement, "socket");
  for (int pu : four.pus) EXPECT_GT(pu, 1) << "core of PU 0";

  const RankPlacement sixteen = place_ranks(t, 16, {}, "");
  EXPECT_TRUE(distinct_cores(t, sixteen.pus)) << join(sixteen.pus);
  const RankPlacement all = place_ranks(t, 32, {}, "");
  EXPECT_EQ(std::set<int>(all.pus.begin(), all.pus.end()).size(), 32u);
  EXPECT_FALSE(all.oversubscribed);

  const RankPlacement one = place_ranks(t, 1, {}, "");
  ASSERT_EQ(one.pus.size(), 1u);
  EXPECT_GT(one.pus[0], 1) << "core of PU 0";
  EXPECT_EQ(one.placement, "self");
}

TEST(Placement, DefaultOversubscribesRoundRobin) {
  const RankPlacement r = place_ranks(Topology::load_synthetic(kTwoCores), 8, {}, "");
  EXPECT_EQ(r.pus, (std::vector<int>{0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_TRUE(r.oversubscribed);
  EXPECT_EQ(r.placement, "l3");
  const RankPlacement single = place_ranks(Topology::load_synthetic("pack:1 core:1 pu:1"), 2, {}, "");
  EXPECT_EQ(single.pus, (std::vector<int>{0, 0}));
  EXPECT_TRUE(single.oversubscribed);
  EXPECT_EQ(single.placement, "self");
}

TEST(Placement, DefaultUsesOnlyAllowedPus) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  allow_only(t, "3,5,9,20,21");
  const RankPlacement r = place_ranks(t, 4, {}, "");
  EXPECT_EQ(r.pus.size(), 4u);
  for (int pu : r.pus) EXPECT_NE(std::string(",3,5,9,20,21,").find(fmt::format(",{},", pu)), std::string::npos);
  EXPECT_TRUE(distinct_cores(t, r.pus)) << join(r.pus);
  const RankPlacement over = place_ranks(t, 7, {}, "");
  EXPECT_EQ(over.pus, (std::vector<int>{3, 5, 9, 20, 21, 3, 5}));
  EXPECT_TRUE(over.oversubscribed);
}

// --- describe_placements ----------------------------------------------------------

TEST(Placement, DescriptionListsPlacementsAndMissingClasses) {
  const Topology t = Topology::load_synthetic(kTwoCores);
  const std::string d = describe_placements(t, 2);
  EXPECT_NE(d.find("Placements for 2 ranks on: " + t.summary()), std::string::npos) << d;
  EXPECT_NE(d.find("\n  l3      PUs 0,1  cores sharing L3 L#0"), std::string::npos) << d;
  EXPECT_NE(d.find("Not on this machine: smt (no core has 2 PUs), l2 (no L2 is shared by 2 cores), "
                   "numa (one NUMA node per package), socket (one package)"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("Without --placement or --cpus: PUs 0,1 (l3)"), std::string::npos) << d;

  const std::string big = describe_placements(Topology::load_synthetic(kBigMachine), 2);
  for (const std::string& name : kAllClasses)
    EXPECT_NE(big.find(fmt::format("\n  {} ", name)), std::string::npos) << big;
  EXPECT_EQ(big.find("Not on this machine"), std::string::npos) << big;

  const std::string eight = describe_placements(Topology::load_synthetic(kBigMachine), 8);
  EXPECT_NE(eight.find("Not on this machine: smt (no core has 8 PUs, at most 2), l2 (no L2 is shared by 8 cores, "
                       "at most 2)"),
            std::string::npos)
      << eight;
  EXPECT_NE(eight.find("socket  PUs 2,4,8,12,16,20,24,28"), std::string::npos) << eight;

  const std::string none = describe_placements(t, 3);
  EXPECT_NE(none.find("(no named placement for 3 ranks)"), std::string::npos) << none;
  EXPECT_NE(none.find("PUs 0,1,0 (l3, oversubscribed)"), std::string::npos) << none;
}

}  // namespace
}  // namespace ipcatlas
