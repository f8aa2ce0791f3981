// What manytoone and onetomany report: both move (N-1) x SIZE per round
// between rank 0 and the others.
#pragma once

#include "scenarios/group.hpp"

namespace ipcatlas {

Measurement measure_fan(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds);

// Links from rank 0 to every other rank.
std::vector<std::pair<int, int>> star_pairs(int ranks);

}  // namespace ipcatlas
