#include "harness/machine/placement.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness/base/error.hpp"
#include "harness/base/output_file.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

// 2 packages x 2 NUMA nodes (one L3 each) x 2 L2s x 2 cores x 2 PUs: every
// class exists. Synthetic PU OS indexes follow the logical order: core c has
// PUs 2c and 2c+1, L2 l has cores 2l and 2l+1, NUMA node n has PUs 8n..8n+7,
// package k has PUs 16k..16k+15.
constexpr const char* kBigMachine = "pack:2 numa:2 l3:1 l2:2 core:2 pu:2";
// Like the machine this was written on: two cores, separate L2s, one L3.
constexpr const char* kTwoCores = "pack:1 l3:1 l2:2 core:1 pu:1";
// One core with two hardware threads.
constexpr const char* kOneSmtCore = "pack:1 core:1 pu:2";
// What results/topologies/2pack-4numa-smt.xml was exported from.
constexpr const char* kShippedDescription = "pack:2 numa:2 l3:1 l2:2 core:4 pu:2";

const std::vector<std::string> kAllClasses = {"smt", "l2", "l3", "numa", "socket"};

std::vector<std::string> names_of(const std::vector<NamedPlacement>& placements) {
  std::vector<std::string> names;
  for (const NamedPlacement& p : placements) names.push_back(p.name);
  return names;
}

const NamedPlacement* find(const std::vector<NamedPlacement>& placements, const std::string& name) {
  for (const NamedPlacement& p : placements)
    if (p.name == name) return &p;
  return nullptr;
}

hwloc_obj_t pu_obj(const Topology& t, int pu) {
  return hwloc_get_pu_obj_by_os_index(t.handle(), static_cast<unsigned>(pu));
}

// The logical index of the ancestor of `type` of a PU.
int ancestor(const Topology& t, int pu, hwloc_obj_type_t type) {
  hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(t.handle(), type, pu_obj(t, pu));
  return o ? static_cast<int>(o->logical_index) : -1;
}

int numa_node(const Topology& t, int pu) { return hwloc_bitmap_first(pu_obj(t, pu)->nodeset); }

bool distinct_cores(const Topology& t, const std::vector<int>& pus) {
  std::set<int> cores;
  for (int p : pus) cores.insert(ancestor(t, p, HWLOC_OBJ_CORE));
  return cores.size() == pus.size();
}

// How many of the PUs have each value of `key`.
std::map<int, int> histogram(const std::vector<int>& pus, const std::function<int(int)>& key) {
  std::map<int, int> h;
  for (int p : pus) ++h[key(p)];
  return h;
}

// The promises of named_placements: the names come in the documented order,
// every placement has one distinct allowed PU per rank, of exactly its class.
void expect_sound(const Topology& t, const std::vector<NamedPlacement>& placements, int ranks) {
  const std::vector<int> allowed = t.allowed_pus();
  std::size_t last = 0;
  for (const NamedPlacement& p : placements) {
    SCOPED_TRACE(p.name + " PUs " + join(p.pus));
    const auto at = std::find(kAllClasses.begin(), kAllClasses.end(), p.name);
    ASSERT_NE(at, kAllClasses.end());
    const std::size_t index = static_cast<std::size_t>(at - kAllClasses.begin());
    if (&p != &placements.front()) {
      EXPECT_GT(index, last) << "order smt, l2, l3, numa, socket";
    }
    last = index;
    EXPECT_EQ(p.pus.size(), static_cast<std::size_t>(ranks));
    EXPECT_EQ(std::set<int>(p.pus.begin(), p.pus.end()).size(), p.pus.size()) << "distinct";
    for (int pu : p.pus) EXPECT_TRUE(std::binary_search(allowed.begin(), allowed.end(), pu)) << pu;
    EXPECT_EQ(t.placement_class(p.pus), p.name);
    EXPECT_FALSE(p.description.empty());
    if (p.name == "l2") {
      EXPECT_TRUE(distinct_cores(t, p.pus)) << "l2 uses distinct cores";
    }
  }
}

// The classes for which `ranks` allowed PUs of exactly that class exist
// (for l2: on distinct cores), by trying every subset.
std::set<std::string> brute_force_classes(const Topology& t, int ranks) {
  const std::vector<int> allowed = t.allowed_pus();
  std::set<std::string> found;
  std::vector<int> chosen;
  std::function<void(std::size_t)> visit = [&](std::size_t next) {
    if (static_cast<int>(chosen.size()) == ranks) {
      const std::string cls = t.placement_class(chosen);
      if (cls != "l2" || distinct_cores(t, chosen)) found.insert(cls);
      return;
    }
    for (std::size_t i = next; i < allowed.size(); ++i) {
      chosen.push_back(allowed[i]);
      visit(i + 1);
      chosen.pop_back();
    }
  };
  visit(0);
  std::set<std::string> named;
  for (const std::string& c : kAllClasses)
    if (found.count(c)) named.insert(c);
  return named;
}

void expect_offers_exactly_what_exists(const Topology& t, int ranks) {
  SCOPED_TRACE(strfmt("%d ranks on %s", ranks, t.summary().c_str()));
  const std::vector<NamedPlacement> placements = named_placements(t, ranks);
  expect_sound(t, placements, ranks);
  const std::vector<std::string> names = names_of(placements);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), brute_force_classes(t, ranks));
}

// Restricts the PUs this process may use, as a cgroup cpuset would.
void allow_only(const Topology& t, const char* pu_list) {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  ASSERT_EQ(hwloc_bitmap_list_sscanf(set, pu_list), 0);
  const int rc = hwloc_topology_allow(t.handle(), set, nullptr, HWLOC_ALLOW_FLAG_CUSTOM);
  std::vector<int> expected;
  for (int pu = hwloc_bitmap_first(set); pu >= 0; pu = hwloc_bitmap_next(set, pu)) expected.push_back(pu);
  hwloc_bitmap_free(set);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(t.allowed_pus(), expected);
}

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

// A directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ipcatlas-placement-test-" + std::to_string(getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::filesystem::path shipped_xml() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "results/topologies/2pack-4numa-smt.xml";
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
  for (int pu : r.pus) EXPECT_NE(std::string(",3,5,9,20,21,").find(strfmt(",%d,", pu)), std::string::npos);
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
    EXPECT_NE(big.find(strfmt("\n  %s ", name.c_str())), std::string::npos) << big;
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
    const bool listed = d.find(strfmt("\n  %s ", name.c_str())) != std::string::npos;
    const bool missing = missing_line.find(strfmt(" %s (", name.c_str())) != std::string::npos;
    EXPECT_EQ(listed, offered(name.c_str())) << name << "\n" << d;
    EXPECT_NE(listed, missing) << name << "\n" << d;
  }
}

}  // namespace
}  // namespace ipcatlas
