// Shared by the placement tests (placement_test.cpp: the named placements;
// rank_placement_test.cpp: where a run's ranks go): synthetic machines, and
// checks of what named_placements promises.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/text.hpp"
#include "harness/machine/placement.hpp"

// Not ipcatlas::testing: inside namespace ipcatlas that name would hide GoogleTest's.
namespace ipcatlas::placement_testing {

// 2 packages x 2 NUMA nodes (one L3 each) x 2 L2s x 2 cores x 2 PUs: every
// class exists. Synthetic PU OS indexes follow the logical order: core c has
// PUs 2c and 2c+1, L2 l has cores 2l and 2l+1, NUMA node n has PUs 8n..8n+7,
// package k has PUs 16k..16k+15.
inline constexpr const char* kBigMachine = "pack:2 numa:2 l3:1 l2:2 core:2 pu:2";
// Like the machine this was written on: two cores, separate L2s, one L3.
inline constexpr const char* kTwoCores = "pack:1 l3:1 l2:2 core:1 pu:1";
// One core with two hardware threads.
inline constexpr const char* kOneSmtCore = "pack:1 core:1 pu:2";
// What results/topologies/2pack-4numa-smt.xml was exported from.
inline constexpr const char* kShippedDescription = "pack:2 numa:2 l3:1 l2:2 core:4 pu:2";

inline const std::vector<std::string> kAllClasses = {"smt", "l2", "l3", "numa", "socket"};

inline std::vector<std::string> names_of(const std::vector<NamedPlacement>& placements) {
  std::vector<std::string> names;
  for (const NamedPlacement& p : placements) names.push_back(p.name);
  return names;
}

inline const NamedPlacement* find(const std::vector<NamedPlacement>& placements, const std::string& name) {
  for (const NamedPlacement& p : placements)
    if (p.name == name) return &p;
  return nullptr;
}

inline hwloc_obj_t pu_obj(const Topology& t, int pu) {
  return hwloc_get_pu_obj_by_os_index(t.handle(), static_cast<unsigned>(pu));
}

// The logical index of the ancestor of `type` of a PU.
inline int ancestor(const Topology& t, int pu, hwloc_obj_type_t type) {
  hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(t.handle(), type, pu_obj(t, pu));
  return o ? static_cast<int>(o->logical_index) : -1;
}

inline int numa_node(const Topology& t, int pu) { return hwloc_bitmap_first(pu_obj(t, pu)->nodeset); }

inline bool distinct_cores(const Topology& t, const std::vector<int>& pus) {
  std::set<int> cores;
  for (int p : pus) cores.insert(ancestor(t, p, HWLOC_OBJ_CORE));
  return cores.size() == pus.size();
}

// How many of the PUs have each value of `key`.
inline std::map<int, int> histogram(const std::vector<int>& pus, const std::function<int(int)>& key) {
  std::map<int, int> h;
  for (int p : pus) ++h[key(p)];
  return h;
}

// The promises of named_placements: the names come in the documented order,
// every placement has one distinct allowed PU per rank, of exactly its class.
inline void expect_sound(const Topology& t, const std::vector<NamedPlacement>& placements, int ranks) {
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
inline std::set<std::string> brute_force_classes(const Topology& t, int ranks) {
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

inline void expect_offers_exactly_what_exists(const Topology& t, int ranks) {
  SCOPED_TRACE(fmt::format("{} ranks on {}", ranks, t.summary()));
  const std::vector<NamedPlacement> placements = named_placements(t, ranks);
  expect_sound(t, placements, ranks);
  const std::vector<std::string> names = names_of(placements);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), brute_force_classes(t, ranks));
}

// Restricts the PUs this process may use, as a cgroup cpuset would.
inline void allow_only(const Topology& t, const char* pu_list) {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  ASSERT_EQ(hwloc_bitmap_list_sscanf(set, pu_list), 0);
  const int rc = hwloc_topology_allow(t.handle(), set, nullptr, HWLOC_ALLOW_FLAG_CUSTOM);
  std::vector<int> expected;
  for (int pu = hwloc_bitmap_first(set); pu >= 0; pu = hwloc_bitmap_next(set, pu)) expected.push_back(pu);
  hwloc_bitmap_free(set);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(t.allowed_pus(), expected);
}

inline std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

}  // namespace ipcatlas::placement_testing
