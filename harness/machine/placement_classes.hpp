// The named placement classes as one table (placement_classes.cpp): what each
// class is, how the search of placement.cpp realises it, and the text that
// `list --placements` and the errors give for it, so that a new class is one
// entry there and nothing else changes. Private to harness/machine: the
// harness interface is placement.hpp (placement_class_names()).
#pragma once

#include <hwloc.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "harness/machine/topology.hpp"

namespace ipcatlas {

// A class realised in one scope: one PU per rank, and the parts they went to
// (each part's label and how many ranks it got), in part order.
struct Realisation {
  std::vector<int> pus;
  std::vector<std::pair<std::string, int>> parts_used;
};

// What the search saw of a class it could not realise, over the widest
// candidate PUs the class may use (placement.cpp).
struct SearchLimits {
  int ranks = 0;
  int max_parts = 0;  // the most parts of one scope
  int max_units = 0;  // the most PUs of one scope that has 2+ parts
};

// Which candidate passes of placement.cpp (one PU per core, or every PU) a class may use.
enum class CoreUse {
  any,            // distinct cores first, SMT siblings when the scope has fewer cores than ranks
  siblings_only,  // never one PU per core: the class is the PUs of one core
  distinct_only,  // never two PUs of one core: those would be of the smt class
};

// One placement class. Ranks are of the class exactly when they lie in one
// `scope` object and in at least two of its `parts`; Topology::placement_class
// of the chosen PUs must then give `name`.
struct PlacementClass {
  const char* name;        // as --placement and the benchmark names spell it
  hwloc_obj_type_t scope;  // HWLOC_OBJ_MACHINE: the whole machine is the one scope
  // The parts of `scope` that have PUs, in `t` (a topology restricted to the candidates).
  std::vector<hwloc_obj_t> (*parts)(hwloc_topology_t t, hwloc_obj_t scope);
  CoreUse cores;
  // How `list --placements` names the part holding `pu`: "L#3" (logical, in the
  // whole topology: the restricted one numbers differently) or "P#1".
  std::string (*part_label)(const Topology& topology, hwloc_obj_t part, int pu);
  // What `list --placements` says of a realisation: "2 PUs of core L#3".
  std::string (*describe)(const Topology& topology, const Realisation& r);
  // Why the class is not offered ("no core has 4 PUs, at most 2"); ranks >= 2.
  std::string (*absent)(const Topology& topology, const SearchLimits& limits);
};

// Every class, in the order they are offered and listed.
std::span<const PlacementClass> placement_classes();
// The class called `name`, or nullptr.
const PlacementClass* find_placement_class(const std::string& name);

// hwloc helpers of the search and the classes. PUs are OS indexes.
hwloc_obj_t pu_obj(hwloc_topology_t t, int os_index);
// The core of a PU, or the PU itself where the topology has no cores.
hwloc_obj_t core_of(hwloc_topology_t t, hwloc_obj_t pu);
// The closest object of `type` holding the PU, the PU itself included; nullptr if none.
hwloc_obj_t ancestor_of_type(hwloc_topology_t t, int os_pu, hwloc_obj_type_t type);
std::vector<hwloc_obj_t> objs_inside(hwloc_topology_t t, hwloc_const_cpuset_t set, hwloc_obj_type_t type);
bool distinct_cores(const Topology& topology, const std::vector<int>& pus);

}  // namespace ipcatlas
