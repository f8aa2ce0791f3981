// named_placements: which classes a machine offers, on which PUs, from
// synthetic machines, an exported XML and this machine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/base/output_file.hpp"
#include "harness/machine/placement.hpp"
#include "harness/machine/placement_test_support.hpp"

namespace ipcatlas {
namespace {

using namespace placement_testing;

// A directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ipcatlas-placement-test-" + std::to_string(getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// From this file's path (a header's __FILE__ would be in the build's layer view).
std::filesystem::path shipped_xml() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
         "results/topologies/2pack-4numa-smt.xml";
}

// --- named_placements ---------------------------------------------------------

TEST(Placement, ClassesAreOfferedInTheTableOrder) {
  // kAllClasses is the documented order; placement_classes.cpp's table must give it.
  EXPECT_EQ(placement_class_names(), kAllClasses);
}

TEST(Placement, BigMachineOffersAllFiveClassesForTwoRanks) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const std::vector<NamedPlacement> placements = named_placements(t, 2);
  EXPECT_EQ(names_of(placements), kAllClasses);
  expect_sound(t, placements, 2);
  // There is room everywhere to stay off the core of PU 0 (PUs 0 and 1).
  for (const NamedPlacement& p : placements)
    for (int pu : p.pus) EXPECT_GT(pu, 1) << p.name << " uses the core of PU 0";
  // Every class but smt puts its two ranks on distinct cores.
  for (const NamedPlacement& p : placements)
    if (p.name != "smt") {
      EXPECT_TRUE(distinct_cores(t, p.pus)) << p.name;
    }
}

TEST(Placement, BigMachineWithFourRanksHasNoSmtAndNoL2) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const std::vector<NamedPlacement> placements = named_placements(t, 4);
  // A core has 2 PUs and an L2 2 cores; an L3 has 4 cores, a package 8.
  EXPECT_EQ(names_of(placements), (std::vector<std::string>{"l3", "numa", "socket"}));
  expect_sound(t, placements, 4);
  for (const NamedPlacement& p : placements) EXPECT_TRUE(distinct_cores(t, p.pus)) << p.name;
  // Spread: 2 ranks on each L2 of the L3, each NUMA node, each package.
  const NamedPlacement* l3 = find(placements, "l3");
  ASSERT_NE(l3, nullptr);
  EXPECT_EQ(histogram(l3->pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_L2CACHE); }).size(), 2u);
  for (const auto& [l2, n] : histogram(l3->pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_L2CACHE); }))
    EXPECT_EQ(n, 2) << "L2 " << l2;
  const NamedPlacement* numa = find(placements, "numa");
  ASSERT_NE(numa, nullptr);
  EXPECT_EQ(histogram(numa->pus, [&](int p) { return numa_node(t, p); }).size(), 2u);
  for (const auto& [node, n] : histogram(numa->pus, [&](int p) { return numa_node(t, p); }))
    EXPECT_EQ(n, 2) << "node " << node;
}

TEST(Placement, BigMachineWithEightRanksSpreadsEvenly) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  const std::vector<NamedPlacement> placements = named_placements(t, 8);
  EXPECT_EQ(names_of(placements), (std::vector<std::string>{"l3", "numa", "socket"}));
  expect_sound(t, placements, 8);

  const NamedPlacement* socket = find(placements, "socket");
  ASSERT_NE(socket, nullptr);
  EXPECT_EQ(histogram(socket->pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_PACKAGE); }),
            (std::map<int, int>{{0, 4}, {1, 4}}));
  EXPECT_TRUE(distinct_cores(t, socket->pus));
  // Within each package, over both of its NUMA nodes.
  EXPECT_EQ(histogram(socket->pus, [&](int p) { return numa_node(t, p); }).size(), 4u);

  // 8 cores of one package, 4 on each of its NUMA nodes: package 1, since
  // package 0 has only 7 cores besides the core of PU 0.
  const NamedPlacement* numa = find(placements, "numa");
  ASSERT_NE(numa, nullptr);
  EXPECT_EQ(histogram(numa->pus, [&](int p) { return numa_node(t, p); }), (std::map<int, int>{{2, 4}, {3, 4}}));
  EXPECT_TRUE(distinct_cores(t, numa->pus));

  // An L3 has only 4 cores: all 8 PUs of one L3, 4 per L2, SMT siblings shared.
  const NamedPlacement* l3 = find(placements, "l3");
  ASSERT_NE(l3, nullptr);
  EXPECT_EQ(histogram(l3->pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_L3CACHE); }).size(), 1u);
  for (const auto& [l2, n] : histogram(l3->pus, [&](int p) { return ancestor(t, p, HWLOC_OBJ_L2CACHE); }))
    EXPECT_EQ(n, 4) << "L2 " << l2;
  EXPECT_NE(l3->description.find("SMT siblings shared"), std::string::npos) << l3->description;
}

TEST(Placement, BigMachineWithMoreRanksThanClassesHold) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  EXPECT_EQ(names_of(named_placements(t, 16)), (std::vector<std::string>{"numa", "socket"}));
  EXPECT_EQ(names_of(named_placements(t, 32)), (std::vector<std::string>{"socket"}));
  EXPECT_TRUE(named_placements(t, 33).empty());
  EXPECT_TRUE(named_placements(t, 1).empty()) << "one PU is 'self', no named class";
}

TEST(Placement, OffersExactlyTheClassesThatExist) {
  // Compared with trying every set of PUs.
  for (const char* description :
       {kBigMachine, kTwoCores, kOneSmtCore, "pack:2 core:2 pu:2", "pack:1 numa:2 core:2 pu:1",
        "pack:1 l3:2 l2:1 core:2 pu:2", "pack:2 l2:2 core:1 pu:3"}) {
    const Topology t = Topology::load_synthetic(description);
    const int pus = static_cast<int>(t.allowed_pus().size());
    for (int ranks = 2; ranks <= std::min(pus, pus > 16 ? 3 : 5); ++ranks) expect_offers_exactly_what_exists(t, ranks);
  }
}

TEST(Placement, MachineLikeThisOneOffersOnlyL3) {
  const Topology t = Topology::load_synthetic(kTwoCores);
  const std::vector<NamedPlacement> placements = named_placements(t, 2);
  ASSERT_EQ(names_of(placements), (std::vector<std::string>{"l3"}));
  EXPECT_EQ(placements[0].pus, (std::vector<int>{0, 1})) << "the core of PU 0 is needed for the class";
  EXPECT_TRUE(named_placements(t, 3).empty());
}

TEST(Placement, SingleSmtCoreOffersOnlySmt) {
  const Topology t = Topology::load_synthetic(kOneSmtCore);
  const std::vector<NamedPlacement> placements = named_placements(t, 2);
  ASSERT_EQ(names_of(placements), (std::vector<std::string>{"smt"}));
  EXPECT_EQ(placements[0].pus, (std::vector<int>{0, 1}));
}

TEST(Placement, UsesOnlyAllowedPus) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  // Core 1 (PU 3), core 2 (PU 5), core 4 (PU 9, NUMA node 1), core 10 (PUs 20, 21, package 1).
  allow_only(t, "3,5,9,20,21");
  EXPECT_EQ(names_of(named_placements(t, 2)), (std::vector<std::string>{"smt", "l3", "numa", "socket"}));
  for (int ranks = 2; ranks <= 5; ++ranks) expect_offers_exactly_what_exists(t, ranks);
  const std::vector<NamedPlacement> two = named_placements(t, 2);
  const NamedPlacement* smt = find(two, "smt");
  ASSERT_NE(smt, nullptr);
  EXPECT_EQ(smt->pus, (std::vector<int>{20, 21}));
}

TEST(Placement, ExistingClassWithUnusablePusIsNotOffered) {
  const Topology t = Topology::load_synthetic(kBigMachine);
  allow_only(t, "0-15");  // package 0 only
  const std::vector<std::string> names = names_of(named_placements(t, 2));
  EXPECT_EQ(names, (std::vector<std::string>{"smt", "l2", "l3", "numa"}));
  EXPECT_NE(describe_placements(t, 2).find("socket (one package)"), std::string::npos) << describe_placements(t, 2);
}

// --- XML export ---------------------------------------------------------------------

TEST(Placement, ExportedXmlReloadsWithTheSamePlacements) {
  const TempDir dir;
  const std::string path = (dir.path / "big.xml").string();
  const Topology t = Topology::load_synthetic(kBigMachine);
  write_output_file(path, topology_xml(t));
  const Topology reloaded = Topology::load_xml(path);
  EXPECT_FALSE(reloaded.is_this_machine());
  EXPECT_EQ(reloaded.summary(), t.summary());
  for (int ranks : {2, 4, 8}) {
    const std::vector<NamedPlacement> a = named_placements(t, ranks);
    const std::vector<NamedPlacement> b = named_placements(reloaded, ranks);
    ASSERT_EQ(names_of(b), names_of(a)) << ranks;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].pus, a[i].pus) << a[i].name;
      EXPECT_EQ(b[i].description, a[i].description);
    }
  }
  EXPECT_EQ(describe_placements(reloaded, 2), describe_placements(t, 2));
}

TEST(Placement, ShippedXmlIsATwoSocketSmtNode) {
  ASSERT_TRUE(std::filesystem::exists(shipped_xml())) << shipped_xml();
  const Topology t = Topology::load_xml(shipped_xml().string());
  EXPECT_NE(t.summary().find("2 packages, 4 NUMA nodes, 32 cores, 64 PUs (SMT on)"), std::string::npos) << t.summary();
  EXPECT_EQ(t.allowed_pus().size(), 64u);
  const std::vector<NamedPlacement> two = named_placements(t, 2);
  EXPECT_EQ(names_of(two), kAllClasses);
  expect_sound(t, two, 2);
  // An L2 holds 4 cores, an L3 8, a package 16.
  const std::vector<NamedPlacement> eight = named_placements(t, 8);
  EXPECT_EQ(names_of(eight), (std::vector<std::string>{"l3", "numa", "socket"}));
  expect_sound(t, eight, 8);
  for (const NamedPlacement& p : eight) EXPECT_TRUE(distinct_cores(t, p.pus)) << p.name;
  EXPECT_EQ(names_of(named_placements(t, 4)), (std::vector<std::string>{"l2", "l3", "numa", "socket"}));
  // The same machine as its synthetic description.
  const Topology synthetic = Topology::load_synthetic(kShippedDescription);
  EXPECT_EQ(t.summary(), synthetic.summary());
  for (int ranks : {2, 8}) {
    const std::vector<NamedPlacement> a = named_placements(synthetic, ranks);
    const std::vector<NamedPlacement> b = named_placements(t, ranks);
    ASSERT_EQ(names_of(a), names_of(b));
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].pus, b[i].pus) << a[i].name;
  }
}

// --- this machine -------------------------------------------------------------------

TEST(Placement, ThisMachineOffersWhatItHas) {
  const Topology t = Topology::load_this_machine();
  const std::vector<NamedPlacement> placements = named_placements(t, 2);
  expect_sound(t, placements, 2);
  const std::vector<std::string> names = names_of(placements);
  auto offered = [&](const char* name) { return std::find(names.begin(), names.end(), name) != names.end(); };

  // Independent evidence for some classes, from the allowed PUs.
  const std::vector<int> allowed = t.allowed_pus();
  std::set<int> packages;
  std::map<int, int> pus_per_core;
  for (int p : allowed) {
    packages.insert(ancestor(t, p, HWLOC_OBJ_PACKAGE));
    ++pus_per_core[ancestor(t, p, HWLOC_OBJ_CORE)];
  }
  const bool smt = std::any_of(pus_per_core.begin(), pus_per_core.end(), [](const auto& c) { return c.second >= 2; });
  EXPECT_EQ(offered("smt"), smt);
  EXPECT_EQ(offered("socket"), packages.size() >= 2);
  // The default pair, when it has a named class, proves that class exists.
  if (allowed.size() >= 2 && pus_per_core.size() >= 2) {
    try {
      const std::string cls = t.placement_class(t.default_pair());
      if (cls == "l2" || cls == "l3") {
        EXPECT_TRUE(offered(cls.c_str())) << cls;
      }
    } catch (const UsageError&) {
      // No package with two cores.
    }
  }
  // On small machines, compare with every pair.
  if (allowed.size() <= 64) {
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), brute_force_classes(t, 2));
  }

  const std::string d = describe_placements(t, 2);
  const std::size_t not_here = d.find("Not on this machine: ");
  const std::string missing_line =
      not_here == std::string::npos ? "" : d.substr(not_here, d.find('\n', not_here) - not_here);
  for (const std::string& name : kAllClasses) {
    const bool listed = d.find(fmt::format("\n  {} ", name)) != std::string::npos;
    const bool missing = missing_line.find(fmt::format(" {} (", name)) != std::string::npos;
    EXPECT_EQ(listed, offered(name.c_str())) << name << "\n" << d;
    EXPECT_NE(listed, missing) << name << "\n" << d;
  }
}

}  // namespace
}  // namespace ipcatlas
