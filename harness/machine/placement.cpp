#include "harness/machine/placement.hpp"
#include "harness/machine/placement_classes.hpp"
#include "harness/machine/placement_search.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "harness/base/error.hpp"

// How named placements are chosen
// --------------------------------
// What each class is (its scope, its parts, which cores it may use) is the
// table of placement_classes.cpp; this file searches for PUs that realise one.
//
// Spreading: the ranks are shared out evenly over the parts (one at a time to
// the part with the fewest ranks, ties to the part with more room left), so
// that socket puts 4+4 ranks on two packages, numa 4+4 on the two NUMA nodes
// of one package, l3 splits ranks over the L2s of one L3. Inside each part,
// hwloc_distrib spreads the part's share over its subtree (caches, cores).
//
// Candidate PUs come in four passes, the first that succeeds wins:
//   1. one PU per core (its first allowed PU), not the core of PU 0,
//   2. one PU per core, all cores,
//   3. all allowed PUs except those of PU 0's core,
//   4. all allowed PUs.
// Distinct cores thus win over avoiding PU 0's core (where the OS does its
// housekeeping), and both give way to the class itself. Each pass works on a
// copy of the topology restricted to its candidate PUs, so that hwloc_distrib
// weighs subtrees by the PUs that can really be used. Within a pass, scopes are
// tried in hwloc's logical order. Whatever is chosen is checked with
// Topology::placement_class before it is offered.
//
// The unnamed default (place_ranks without --cpus or --placement) uses the same
// passes with the whole machine as one scope: hwloc_distrib over everything.

namespace ipcatlas {
namespace {

struct TopologyDeleter {
  void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

// A copy of `source` that only contains the PUs in `pus`.
TopologyPtr restricted_copy(hwloc_topology_t source, hwloc_const_cpuset_t pus) {
  hwloc_topology_t copy;
  if (hwloc_topology_dup(&copy, source) != 0) throw SysError("hwloc_topology_dup", errno);
  TopologyPtr owned(copy);
  if (hwloc_topology_restrict(copy, pus, 0) != 0) throw SysError("hwloc_topology_restrict", errno);
  return owned;
}

// The candidate PUs of one pass (see the comment at the top).
struct Pass {
  bool one_per_core;
  bool avoid_core_of_pu0;
};
constexpr Pass kPasses[] = {{true, true}, {true, false}, {false, true}, {false, false}};

bool may_use(const PlacementClass& cls, const Pass& pass) {
  switch (cls.cores) {
    case CoreUse::siblings_only: return !pass.one_per_core;
    case CoreUse::distinct_only: return pass.one_per_core;
    case CoreUse::any: break;
  }
  return true;
}

// The last pass a class may use: the widest candidate set it can have.
std::size_t widest_pass(const PlacementClass& cls) {
  std::size_t i = std::size(kPasses) - 1;
  while (i > 0 && !may_use(cls, kPasses[i])) --i;
  return i;
}

// The candidate PUs of every pass, and the restricted topologies built from
// them on demand.
class Candidates {
 public:
  explicit Candidates(const Topology& topology) : topology_(topology) {
    hwloc_topology_t t = topology.handle();
    hwloc_obj_t pu0 = pu_obj(t, 0);
    const hwloc_obj_t core0 = pu0 ? core_of(t, pu0) : nullptr;
    for (std::size_t i = 0; i < std::size(kPasses); ++i) {
      std::set<hwloc_obj_t> cores;
      for (int p : topology.allowed_pus()) {
        const hwloc_obj_t core = core_of(t, pu_obj(t, p));
        if (kPasses[i].avoid_core_of_pu0 && core == core0) continue;
        if (kPasses[i].one_per_core && !cores.insert(core).second) continue;
        hwloc_bitmap_set(units_[i].set, static_cast<unsigned>(p));
      }
    }
  }

  bool empty(std::size_t i) const { return hwloc_bitmap_iszero(units_[i].set); }
  int count(std::size_t i) const { return hwloc_bitmap_weight(units_[i].set); }

  hwloc_topology_t restricted(std::size_t i) {
    if (!restricted_[i]) restricted_[i] = restricted_copy(topology_.handle(), units_[i].set);
    return restricted_[i].get();
  }

 private:
  const Topology& topology_;
  HwlocBitmap units_[std::size(kPasses)];
  TopologyPtr restricted_[std::size(kPasses)];
};

std::vector<hwloc_obj_t> scopes(hwloc_topology_t t, const PlacementClass& cls) {
  if (cls.scope == HWLOC_OBJ_MACHINE) return {hwloc_get_root_obj(t)};
  return objs_inside(t, hwloc_get_root_obj(t)->cpuset, cls.scope);
}

// hwloc_distrib of `n` ranks over the subtree(s) covering `set`: one PU per rank.
std::vector<int> distrib(hwloc_topology_t t, hwloc_const_cpuset_t set, int n) {
  const int max_roots = hwloc_bitmap_weight(set);
  std::vector<hwloc_obj_t> roots(static_cast<std::size_t>(std::max(max_roots, 1)));
  const int nroots = hwloc_get_largest_objs_inside_cpuset(t, set, roots.data(), max_roots);
  if (nroots <= 0) throw std::runtime_error("hwloc_get_largest_objs_inside_cpuset found no object");
  std::vector<hwloc_cpuset_t> sets(static_cast<std::size_t>(n), nullptr);
  hwloc_distrib(t, roots.data(), static_cast<unsigned>(nroots), sets.data(), static_cast<unsigned>(n), INT_MAX, 0);
  std::vector<int> pus;
  for (hwloc_cpuset_t s : sets) {
    pus.push_back(s ? hwloc_bitmap_first(s) : -1);
    hwloc_bitmap_free(s);
  }
  return pus;
}

// How many ranks each part gets: evenly, within each part's capacity.
std::vector<int> even_shares(const std::vector<int>& capacity, int ranks) {
  std::vector<int> share(capacity.size(), 0);
  for (int r = 0; r < ranks; ++r) {
    std::size_t best = capacity.size();
    for (std::size_t i = 0; i < capacity.size(); ++i) {
      if (share[i] >= capacity[i]) continue;
      if (best == capacity.size() || share[i] < share[best] ||
          (share[i] == share[best] && capacity[i] - share[i] > capacity[best] - share[best]))
        best = i;
    }
    ++share[best];
  }
  return share;
}

// Spreads `ranks` over the parts of `scope` (in restricted topology `t`).
std::optional<Realisation> spread_in_scope(const Topology& topology, hwloc_topology_t t, const PlacementClass& cls,
                                           hwloc_obj_t scope, int ranks) {
  const std::vector<hwloc_obj_t> ps = cls.parts(t, scope);
  std::vector<int> capacity;
  int total = 0;
  for (hwloc_obj_t p : ps) {
    capacity.push_back(hwloc_bitmap_weight(p->cpuset));
    total += capacity.back();
  }
  if (ps.size() < 2 || total < ranks) return std::nullopt;
  const std::vector<int> share = even_shares(capacity, ranks);
  Realisation r;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (share[i] == 0) continue;
    const std::vector<int> pus = distrib(t, ps[i]->cpuset, share[i]);
    r.pus.insert(r.pus.end(), pus.begin(), pus.end());
    r.parts_used.emplace_back(cls.part_label(topology, ps[i], pus.front()), share[i]);
  }
  return r;
}

bool distinct_allowed(const Topology& topology, const std::vector<int>& pus) {
  const std::vector<int> allowed = topology.allowed_pus();
  std::set<int> seen;
  for (int p : pus)
    if (!std::binary_search(allowed.begin(), allowed.end(), p) || !seen.insert(p).second) return false;
  return true;
}

// The class realised with the first pass and scope that work, checked.
std::optional<NamedPlacement> find_class(const Topology& topology, Candidates& candidates, const PlacementClass& cls,
                                         int ranks) {
  if (ranks < 2) return std::nullopt;
  for (std::size_t i = 0; i < std::size(kPasses); ++i) {
    if (!may_use(cls, kPasses[i])) continue;
    if (candidates.empty(i) || candidates.count(i) < ranks) continue;
    hwloc_topology_t t = candidates.restricted(i);
    for (hwloc_obj_t scope : scopes(t, cls)) {
      std::optional<Realisation> r = spread_in_scope(topology, t, cls, scope, ranks);
      if (!r || !distinct_allowed(topology, r->pus) || topology.placement_class(r->pus) != cls.name) continue;
      return NamedPlacement{cls.name, cls.describe(topology, *r), r->pus};
    }
  }
  return std::nullopt;
}

// Why a class is not offered for `ranks` ranks.
std::string absent_reason(const Topology& topology, Candidates& candidates, const PlacementClass& cls, int ranks) {
  if (ranks < 2) return "needs 2 or more ranks";
  const std::size_t pass = widest_pass(cls);
  SearchLimits limits;
  limits.ranks = ranks;
  if (candidates.count(pass) > 0) {
    hwloc_topology_t t = candidates.restricted(pass);
    for (hwloc_obj_t scope : scopes(t, cls)) {
      const std::vector<hwloc_obj_t> ps = cls.parts(t, scope);
      limits.max_parts = std::max(limits.max_parts, static_cast<int>(ps.size()));
      if (ps.size() < 2) continue;
      int units = 0;
      for (hwloc_obj_t p : ps) units += hwloc_bitmap_weight(p->cpuset);
      limits.max_units = std::max(limits.max_units, units);
    }
  }
  return cls.absent(topology, limits);
}

}  // namespace

std::vector<NamedPlacement> named_placements(const Topology& topology, int ranks) {
  std::vector<NamedPlacement> out;
  if (ranks < 2 || topology.allowed_pus().empty()) return out;
  Candidates candidates(topology);
  for (const PlacementClass& cls : placement_classes())
    if (std::optional<NamedPlacement> p = find_class(topology, candidates, cls, ranks)) out.push_back(std::move(*p));
  return out;
}

std::vector<int> spread_over_machine(const Topology& topology, int ranks) {
  Candidates candidates(topology);
  for (std::size_t i = 0; i < std::size(kPasses); ++i) {
    if (candidates.empty(i) || candidates.count(i) < ranks) continue;
    hwloc_topology_t t = candidates.restricted(i);
    std::vector<int> pus = distrib(t, hwloc_get_root_obj(t)->cpuset, ranks);
    if (distinct_allowed(topology, pus)) return pus;
  }
  return {};
}

bool is_placement_class(const std::string& name) { return find_placement_class(name) != nullptr; }

std::string placement_absent_reason(const Topology& topology, const std::string& cls, int ranks) {
  const PlacementClass* found = find_placement_class(cls);
  if (!found) return "no such placement class";
  Candidates candidates(topology);
  return absent_reason(topology, candidates, *found, ranks);
}

std::vector<std::string> absent_placements(const Topology& topology, const std::vector<NamedPlacement>& available,
                                           int ranks) {
  std::vector<std::string> absent;
  Candidates candidates(topology);
  for (const PlacementClass& cls : placement_classes()) {
    const std::string name = cls.name;
    if (std::none_of(available.begin(), available.end(), [&](const NamedPlacement& p) { return p.name == name; }))
      absent.push_back(name + " (" + absent_reason(topology, candidates, cls, ranks) + ")");
  }
  return absent;
}

}  // namespace ipcatlas
