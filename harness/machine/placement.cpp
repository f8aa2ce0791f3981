#include "harness/machine/placement.hpp"
#include "harness/machine/placement_search.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "harness/base/error.hpp"
#include "harness/base/text.hpp"

// How named placements are chosen
// --------------------------------
// Every class is a *scope* (the object all ranks must share) split into *parts*
// (the objects the ranks must not all share). Ranks are in the class exactly
// when they lie inside one scope and in at least two of its parts:
//
//   class   scope         parts                          ranks go on
//   smt     a core        its PUs                        PUs of that core
//   l2      an L2 cache   its cores                      distinct cores (never two PUs of one core)
//   l3      an L3 cache   its L2s (its cores if no L2)   cores; PUs of shared cores only if cores run out
//   numa    a package     its NUMA nodes (disjoint)      cores; PUs of shared cores only if cores run out
//   socket  the machine   its packages                   cores; PUs of shared cores only if cores run out
//
// So for l2, N ranks need N cores under one L2 (otherwise l2 is not offered):
// two ranks on SMT siblings would mix the smt and l2 classes. For l3, numa and
// socket the class is offered whenever N allowed PUs of that class exist, and
// SMT siblings are used only when the scope has fewer cores than ranks.
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

const char* const kClasses[] = {"smt", "l2", "l3", "numa", "socket"};

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

hwloc_obj_t pu_obj(hwloc_topology_t t, int os_index) {
  return os_index < 0 ? nullptr : hwloc_get_pu_obj_by_os_index(t, static_cast<unsigned>(os_index));
}

hwloc_obj_t core_of(hwloc_topology_t t, hwloc_obj_t pu) {
  hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
  return core ? core : pu;  // some synthetic topologies have no cores
}

hwloc_obj_t ancestor_of_type(hwloc_topology_t t, int os_pu, hwloc_obj_type_t type) {
  for (hwloc_obj_t o = pu_obj(t, os_pu); o; o = o->parent)
    if (o->type == type) return o;
  return nullptr;
}

// The candidate PUs of one pass (see the comment at the top).
struct Pass {
  bool one_per_core;
  bool avoid_core_of_pu0;
};
constexpr Pass kPasses[] = {{true, true}, {true, false}, {false, true}, {false, false}};

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

hwloc_obj_type_t scope_type(const std::string& cls) {
  if (cls == "smt") return HWLOC_OBJ_CORE;
  if (cls == "l2") return HWLOC_OBJ_L2CACHE;
  if (cls == "l3") return HWLOC_OBJ_L3CACHE;
  if (cls == "numa") return HWLOC_OBJ_PACKAGE;
  return HWLOC_OBJ_MACHINE;
}

std::vector<hwloc_obj_t> objs_inside(hwloc_topology_t t, hwloc_const_cpuset_t set, hwloc_obj_type_t type) {
  std::vector<hwloc_obj_t> objs;
  for (hwloc_obj_t o = hwloc_get_next_obj_inside_cpuset_by_type(t, set, type, nullptr); o;
       o = hwloc_get_next_obj_inside_cpuset_by_type(t, set, type, o))
    objs.push_back(o);
  return objs;
}

std::vector<hwloc_obj_t> scopes(hwloc_topology_t t, const std::string& cls) {
  if (cls == "socket") return {hwloc_get_root_obj(t)};
  return objs_inside(t, hwloc_get_root_obj(t)->cpuset, scope_type(cls));
}

// The parts of a scope that have PUs.
std::vector<hwloc_obj_t> parts(hwloc_topology_t t, const std::string& cls, hwloc_obj_t scope) {
  if (cls == "smt") return objs_inside(t, scope->cpuset, HWLOC_OBJ_PU);
  if (cls == "l2") return objs_inside(t, scope->cpuset, HWLOC_OBJ_CORE);
  if (cls == "l3") {
    std::vector<hwloc_obj_t> l2s = objs_inside(t, scope->cpuset, HWLOC_OBJ_L2CACHE);
    return l2s.empty() ? objs_inside(t, scope->cpuset, HWLOC_OBJ_CORE) : l2s;
  }
  if (cls == "numa") {
    // NUMA nodes are memory children, not in the CPU tree: take those whose
    // PUs lie in the package, skipping nodes over the same PUs as one already
    // taken (e.g. a DRAM node and an HBM node with the same cores).
    std::vector<hwloc_obj_t> nodes;
    HwlocBitmap taken;
    for (hwloc_obj_t n = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, nullptr); n;
         n = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, n)) {
      if (hwloc_bitmap_iszero(n->cpuset) || !hwloc_bitmap_isincluded(n->cpuset, scope->cpuset) ||
          hwloc_bitmap_intersects(n->cpuset, taken.set))
        continue;
      hwloc_bitmap_or(taken.set, taken.set, n->cpuset);
      nodes.push_back(n);
    }
    return nodes;
  }
  return objs_inside(t, scope->cpuset, HWLOC_OBJ_PACKAGE);
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

// A class realised in one scope of a restricted topology.
struct Realisation {
  std::vector<int> pus;
  std::vector<std::pair<std::string, int>> parts_used;  // label, ranks
};

std::string part_label(const Topology& topology, const std::string& cls, hwloc_obj_t part, int pu) {
  hwloc_topology_t t = topology.handle();
  hwloc_obj_t o = nullptr;
  if (cls == "numa") return strfmt("P#%u", part->os_index);  // OS indexes survive the restriction
  if (cls == "smt") return strfmt("P#%d", pu);
  if (cls == "l2") o = core_of(t, pu_obj(t, pu));
  if (cls == "l3") o = ancestor_of_type(t, pu, part->type);  // L2, or core
  if (cls == "socket") o = ancestor_of_type(t, pu, HWLOC_OBJ_PACKAGE);
  return o ? strfmt("L#%u", o->logical_index) : "?";
}

// Spreads `ranks` over the parts of `scope` (in restricted topology `t`).
std::optional<Realisation> spread_in_scope(const Topology& topology, hwloc_topology_t t, const std::string& cls,
                                           hwloc_obj_t scope, int ranks) {
  const std::vector<hwloc_obj_t> ps = parts(t, cls, scope);
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
    r.parts_used.emplace_back(part_label(topology, cls, ps[i], pus.front()), share[i]);
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

bool distinct_cores(const Topology& topology, const std::vector<int>& pus) {
  std::set<hwloc_obj_t> cores;
  for (int p : pus) cores.insert(core_of(topology.handle(), pu_obj(topology.handle(), p)));
  return cores.size() == pus.size();
}

std::string describe(const Topology& topology, const std::string& cls, const Realisation& r) {
  hwloc_topology_t t = topology.handle();
  const int first = r.pus.front();
  const bool cores = distinct_cores(topology, r.pus);
  const std::string what = cores ? "cores" : "PUs";
  std::vector<std::string> labels;
  std::vector<int> counts;
  for (const auto& [label, n] : r.parts_used) {
    labels.push_back(label);
    counts.push_back(n);
  }
  const std::string spread =
      " (" + join(counts, "+") + (cores ? "" : "; SMT siblings shared: fewer cores than ranks") + ")";
  std::string d;
  if (cls == "smt") {
    d = strfmt("%zu PUs of core L#%u", r.pus.size(), core_of(t, pu_obj(t, first))->logical_index);
  } else if (cls == "l2") {
    d = strfmt("%zu cores sharing L2 L#%u", r.pus.size(), ancestor_of_type(t, first, HWLOC_OBJ_L2CACHE)->logical_index);
  } else if (cls == "l3") {
    const bool by_l2 = ancestor_of_type(t, first, HWLOC_OBJ_L2CACHE) != nullptr;
    d = strfmt("%s sharing L3 L#%u, on %s %s", what.c_str(),
               ancestor_of_type(t, first, HWLOC_OBJ_L3CACHE)->logical_index, by_l2 ? "L2s" : "cores",
               join(labels, ",").c_str()) +
        spread;
  } else if (cls == "numa") {
    d = strfmt("%s of package L#%u, on NUMA nodes %s", what.c_str(),
               ancestor_of_type(t, first, HWLOC_OBJ_PACKAGE)->logical_index, join(labels, ",").c_str()) +
        spread;
  } else {
    d = strfmt("%s on packages %s", what.c_str(), join(labels, ",").c_str()) + spread;
  }
  return d;
}

// The class realised with the first pass and scope that work, checked.
std::optional<NamedPlacement> find_class(const Topology& topology, Candidates& candidates, const std::string& cls,
                                         int ranks) {
  if (ranks < 2) return std::nullopt;
  for (std::size_t i = 0; i < std::size(kPasses); ++i) {
    if (cls == "smt" && kPasses[i].one_per_core) continue;  // one PU per core: no SMT
    if (cls == "l2" && !kPasses[i].one_per_core) continue;  // l2: distinct cores only
    if (candidates.empty(i) || candidates.count(i) < ranks) continue;
    hwloc_topology_t t = candidates.restricted(i);
    for (hwloc_obj_t scope : scopes(t, cls)) {
      std::optional<Realisation> r = spread_in_scope(topology, t, cls, scope, ranks);
      if (!r || !distinct_allowed(topology, r->pus) || topology.placement_class(r->pus) != cls) continue;
      return NamedPlacement{cls, describe(topology, cls, *r), r->pus};
    }
  }
  return std::nullopt;
}

// Why a class is not offered for `ranks` ranks.
std::string absent_reason(const Topology& topology, Candidates& candidates, const std::string& cls, int ranks) {
  if (ranks < 2) return "needs 2 or more ranks";
  // The widest candidate set the class may use.
  const std::size_t pass = cls == "l2" ? 1 : 3;
  int max_parts = 0;
  int max_units = 0;  // in scopes with 2+ parts
  if (candidates.count(pass) > 0) {
    hwloc_topology_t t = candidates.restricted(pass);
    for (hwloc_obj_t scope : scopes(t, cls)) {
      const std::vector<hwloc_obj_t> ps = parts(t, cls, scope);
      max_parts = std::max(max_parts, static_cast<int>(ps.size()));
      if (ps.size() < 2) continue;
      int units = 0;
      for (hwloc_obj_t p : ps) units += hwloc_bitmap_weight(p->cpuset);
      max_units = std::max(max_units, units);
    }
  }
  if (cls == "smt") {
    if (max_parts < 2) return "no core has 2 PUs";
    return strfmt("no core has %d PUs, at most %d", ranks, max_units);
  }
  if (cls == "l2") {
    if (max_parts < 2) return "no L2 is shared by 2 cores";
    return strfmt("no L2 is shared by %d cores, at most %d", ranks, max_units);
  }
  if (cls == "l3") {
    if (hwloc_get_nbobjs_by_type(topology.handle(), HWLOC_OBJ_L3CACHE) <= 0) return "no L3 cache";
    if (max_parts < 2) return "no L3 is shared by 2 L2s";
    if (max_units >= ranks) return "its PUs do not have the l3 class";
    return strfmt("no L3 has %d PUs on 2+ L2s, at most %d", ranks, max_units);
  }
  if (cls == "numa") {
    if (max_parts < 2) return "one NUMA node per package";
    if (max_units >= ranks) return "its PUs do not have the numa class";
    return strfmt("no package has %d PUs on 2+ NUMA nodes, at most %d", ranks, max_units);
  }
  if (max_parts < 2) return "one package";
  if (max_units >= ranks) return "its PUs do not have the socket class";
  return strfmt("the packages have %d PUs", max_units);
}

}  // namespace

std::vector<NamedPlacement> named_placements(const Topology& topology, int ranks) {
  std::vector<NamedPlacement> out;
  if (ranks < 2 || topology.allowed_pus().empty()) return out;
  Candidates candidates(topology);
  for (const char* cls : kClasses)
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

bool is_placement_class(const std::string& name) {
  return std::find(std::begin(kClasses), std::end(kClasses), name) != std::end(kClasses);
}

std::string placement_absent_reason(const Topology& topology, const std::string& cls, int ranks) {
  Candidates candidates(topology);
  return absent_reason(topology, candidates, cls, ranks);
}

std::vector<std::string> absent_placements(const Topology& topology, const std::vector<NamedPlacement>& available,
                                           int ranks) {
  std::vector<std::string> absent;
  Candidates candidates(topology);
  for (const char* cls : kClasses) {
    const std::string name = cls;
    if (std::none_of(available.begin(), available.end(), [&](const NamedPlacement& p) { return p.name == name; }))
      absent.push_back(name + " (" + absent_reason(topology, candidates, name, ranks) + ")");
  }
  return absent;
}

}  // namespace ipcatlas
