#include "harness/machine/placement_classes.hpp"
#include "harness/machine/placement.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "harness/base/text.hpp"

// The classes
// -----------
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
// How the ranks are spread over the parts is in placement.cpp.

namespace ipcatlas {
namespace {

std::string logical_label(hwloc_obj_t o) { return o ? fmt::format("L#{}", o->logical_index) : "?"; }

// The label of the part's own type above `pu`, in the whole topology.
std::string ancestor_label(const Topology& topology, hwloc_obj_t part, int pu) {
  return logical_label(ancestor_of_type(topology.handle(), pu, part->type));
}

// What the classes that spread over parts say of the spread: "cores" or "PUs",
// the parts' labels ("L#0,L#1") and " (1+1)", with the SMT warning when cores ran out.
struct SpreadText {
  std::string what, labels, shares;
};

SpreadText spread_text(const Topology& topology, const Realisation& r) {
  const bool cores = distinct_cores(topology, r.pus);
  std::vector<std::string> labels;
  std::vector<int> counts;
  for (const auto& [label, n] : r.parts_used) {
    labels.push_back(label);
    counts.push_back(n);
  }
  return {cores ? "cores" : "PUs", join(labels, ","),
          " (" + join(counts, "+") + (cores ? "" : "; SMT siblings shared: fewer cores than ranks") + ")"};
}

unsigned first_ancestor_index(const Topology& topology, const Realisation& r, hwloc_obj_type_t type) {
  return ancestor_of_type(topology.handle(), r.pus.front(), type)->logical_index;
}

// --- smt: the PUs of one core ---

std::vector<hwloc_obj_t> pus_of(hwloc_topology_t t, hwloc_obj_t scope) {
  return objs_inside(t, scope->cpuset, HWLOC_OBJ_PU);
}

std::string pu_label(const Topology&, hwloc_obj_t, int pu) { return fmt::format("P#{}", pu); }

std::string describe_smt(const Topology& topology, const Realisation& r) {
  hwloc_topology_t t = topology.handle();
  return fmt::format("{} PUs of core L#{}", r.pus.size(), core_of(t, pu_obj(t, r.pus.front()))->logical_index);
}

std::string absent_smt(const Topology&, const SearchLimits& s) {
  if (s.max_parts < 2) return "no core has 2 PUs";
  return fmt::format("no core has {} PUs, at most {}", s.ranks, s.max_units);
}

// --- l2: cores sharing one L2 ---

std::vector<hwloc_obj_t> cores_of(hwloc_topology_t t, hwloc_obj_t scope) {
  return objs_inside(t, scope->cpuset, HWLOC_OBJ_CORE);
}

std::string core_label(const Topology& topology, hwloc_obj_t, int pu) {
  hwloc_topology_t t = topology.handle();
  return logical_label(core_of(t, pu_obj(t, pu)));
}

std::string describe_l2(const Topology& topology, const Realisation& r) {
  return fmt::format("{} cores sharing L2 L#{}", r.pus.size(), first_ancestor_index(topology, r, HWLOC_OBJ_L2CACHE));
}

std::string absent_l2(const Topology&, const SearchLimits& s) {
  if (s.max_parts < 2) return "no L2 is shared by 2 cores";
  return fmt::format("no L2 is shared by {} cores, at most {}", s.ranks, s.max_units);
}

// --- l3: L2s (or cores) sharing one L3 ---

std::vector<hwloc_obj_t> l2s_or_cores_of(hwloc_topology_t t, hwloc_obj_t scope) {
  std::vector<hwloc_obj_t> l2s = objs_inside(t, scope->cpuset, HWLOC_OBJ_L2CACHE);
  return l2s.empty() ? cores_of(t, scope) : l2s;
}

std::string describe_l3(const Topology& topology, const Realisation& r) {
  const bool by_l2 = ancestor_of_type(topology.handle(), r.pus.front(), HWLOC_OBJ_L2CACHE) != nullptr;
  const SpreadText s = spread_text(topology, r);
  return fmt::format("{} sharing L3 L#{}, on {} {}", s.what, first_ancestor_index(topology, r, HWLOC_OBJ_L3CACHE),
                     by_l2 ? "L2s" : "cores", s.labels) +
         s.shares;
}

std::string absent_l3(const Topology& topology, const SearchLimits& s) {
  if (hwloc_get_nbobjs_by_type(topology.handle(), HWLOC_OBJ_L3CACHE) <= 0) return "no L3 cache";
  if (s.max_parts < 2) return "no L3 is shared by 2 L2s";
  if (s.max_units >= s.ranks) return "its PUs do not have the l3 class";
  return fmt::format("no L3 has {} PUs on 2+ L2s, at most {}", s.ranks, s.max_units);
}

// --- numa: NUMA nodes of one package ---

// NUMA nodes are memory children, not in the CPU tree: take those whose PUs
// lie in the package, skipping nodes over the same PUs as one already taken
// (e.g. a DRAM node and an HBM node with the same cores).
std::vector<hwloc_obj_t> numa_nodes_of(hwloc_topology_t t, hwloc_obj_t scope) {
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

// OS indexes survive the restriction to the candidates, logical ones do not.
std::string node_label(const Topology&, hwloc_obj_t part, int) { return fmt::format("P#{}", part->os_index); }

std::string describe_numa(const Topology& topology, const Realisation& r) {
  const SpreadText s = spread_text(topology, r);
  return fmt::format("{} of package L#{}, on NUMA nodes {}", s.what,
                     first_ancestor_index(topology, r, HWLOC_OBJ_PACKAGE), s.labels) +
         s.shares;
}

std::string absent_numa(const Topology&, const SearchLimits& s) {
  if (s.max_parts < 2) return "one NUMA node per package";
  if (s.max_units >= s.ranks) return "its PUs do not have the numa class";
  return fmt::format("no package has {} PUs on 2+ NUMA nodes, at most {}", s.ranks, s.max_units);
}

// --- socket: packages of the machine ---

std::vector<hwloc_obj_t> packages_of(hwloc_topology_t t, hwloc_obj_t scope) {
  return objs_inside(t, scope->cpuset, HWLOC_OBJ_PACKAGE);
}

std::string describe_socket(const Topology& topology, const Realisation& r) {
  const SpreadText s = spread_text(topology, r);
  return fmt::format("{} on packages {}", s.what, s.labels) + s.shares;
}

std::string absent_socket(const Topology&, const SearchLimits& s) {
  if (s.max_parts < 2) return "one package";
  if (s.max_units >= s.ranks) return "its PUs do not have the socket class";
  return fmt::format("the packages have {} PUs", s.max_units);
}

// The order is the order of `list --placements`, of --placement all, and of
// the class names in --help and in the errors.
const PlacementClass kClasses[] = {
    {"smt", HWLOC_OBJ_CORE, pus_of, CoreUse::siblings_only, pu_label, describe_smt, absent_smt},
    {"l2", HWLOC_OBJ_L2CACHE, cores_of, CoreUse::distinct_only, core_label, describe_l2, absent_l2},
    {"l3", HWLOC_OBJ_L3CACHE, l2s_or_cores_of, CoreUse::any, ancestor_label, describe_l3, absent_l3},
    {"numa", HWLOC_OBJ_PACKAGE, numa_nodes_of, CoreUse::any, node_label, describe_numa, absent_numa},
    {"socket", HWLOC_OBJ_MACHINE, packages_of, CoreUse::any, ancestor_label, describe_socket, absent_socket},
};

}  // namespace

std::span<const PlacementClass> placement_classes() { return kClasses; }

const PlacementClass* find_placement_class(const std::string& name) {
  const auto it =
      std::find_if(std::begin(kClasses), std::end(kClasses), [&](const PlacementClass& c) { return name == c.name; });
  return it == std::end(kClasses) ? nullptr : &*it;
}

std::vector<std::string> placement_class_names() {
  std::vector<std::string> names;
  for (const PlacementClass& c : kClasses) names.emplace_back(c.name);
  return names;
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

std::vector<hwloc_obj_t> objs_inside(hwloc_topology_t t, hwloc_const_cpuset_t set, hwloc_obj_type_t type) {
  std::vector<hwloc_obj_t> objs;
  for (hwloc_obj_t o = hwloc_get_next_obj_inside_cpuset_by_type(t, set, type, nullptr); o;
       o = hwloc_get_next_obj_inside_cpuset_by_type(t, set, type, o))
    objs.push_back(o);
  return objs;
}

bool distinct_cores(const Topology& topology, const std::vector<int>& pus) {
  std::set<hwloc_obj_t> cores;
  for (int p : pus) cores.insert(core_of(topology.handle(), pu_obj(topology.handle(), p)));
  return cores.size() == pus.size();
}

}  // namespace ipcatlas
