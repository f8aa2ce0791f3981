// The hwloc search behind named placements (placement.cpp), as far as
// rank_placement.cpp needs it: the classes, why one is absent, and the
// unnamed spread over the whole machine. Not part of the harness interface.
#pragma once

#include <string>
#include <vector>

#include "harness/machine/placement.hpp"

namespace ipcatlas {

// One of placement_class_names().
bool is_placement_class(const std::string& name);

// Why `cls` is not offered for `ranks` ranks on this topology.
std::string placement_absent_reason(const Topology& topology, const std::string& cls, int ranks);

// "l2 (reason)" for every class missing from `available`, in class order.
std::vector<std::string> absent_placements(const Topology& topology, const std::vector<NamedPlacement>& available,
                                           int ranks);

// `ranks` distinct allowed PUs spread with hwloc_distrib over the whole
// machine, through the candidate passes; empty if no pass has enough PUs.
std::vector<int> spread_over_machine(const Topology& topology, int ranks);

}  // namespace ipcatlas
