// The alltoall schedule, exposed for its test.
#pragma once

#include <vector>

namespace ipcatlas {

// Rank `me`'s partner at each of the steps of a round among `ranks` ranks
// (-1: sits out that step). Every step is a perfect matching, and over the
// steps every pair meets exactly once.
std::vector<int> pairwise_partners(int me, int ranks);

}  // namespace ipcatlas
