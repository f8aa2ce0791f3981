// Where ranks run: named placements derived from the hwloc topology
// (smt, l2, l3, numa, socket), explicit PU lists, and oversubscription.
#pragma once

#include <string>
#include <vector>

#include "harness/machine/topology.hpp"

namespace ipcatlas {

// The names of the placement classes, in the order they are offered and
// listed: "smt", "l2", "l3", "numa", "socket" (placement_classes.cpp has
// what each means).
std::vector<std::string> placement_class_names();

// A placement class this machine has, with the PUs that realise it.
struct NamedPlacement {
  std::string name;         // one of placement_class_names()
  std::string description;  // for humans: "2 PUs of core L#3", "cores under L3 L#0", ...
  std::vector<int> pus;     // OS PU indexes, one per rank
};

// The named placements this topology offers for `ranks` ranks, in the order
// of placement_class_names(). A class is offered only if the machine has it
// and it can host `ranks` distinct PUs whose common ancestor gives exactly
// that class (Topology::placement_class). PUs are spread with hwloc_distrib
// over the objects that define the class, and only allowed PUs are used.
std::vector<NamedPlacement> named_placements(const Topology& topology, int ranks);

// The PUs of a run's ranks.
struct RankPlacement {
  std::vector<int> pus;         // one per rank; a PU repeats when oversubscribed
  std::string placement;        // Topology::placement_class of the distinct PUs
  bool oversubscribed = false;  // more ranks than distinct PUs
};

// Chooses the PUs for `ranks` ranks.
//  - cpus given: they are validated (exist, allowed, distinct); more PUs than
//    ranks is a UsageError; fewer: ranks are assigned round-robin and the
//    run is oversubscribed.
//  - placement_name given (one of placement_class_names()): that named
//    placement; UsageError if the machine does not have it, naming those it has.
//  - neither: for 2 ranks Topology::default_pair(); for more, spread over
//    the allowed PUs with hwloc_distrib; if ranks outnumber the allowed PUs,
//    round-robin over all of them (oversubscribed).
RankPlacement place_ranks(const Topology& topology, int ranks, const std::vector<int>& cpus,
                          const std::string& placement_name);

// The text of `ipcatlas list --placements`: every named placement of the
// topology for `ranks` ranks, with its PUs, and the classes it lacks.
std::string describe_placements(const Topology& topology, int ranks);

}  // namespace ipcatlas
