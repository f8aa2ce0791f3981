// manytoone (incast): every round, each of the N-1 senders delivers SIZE
// bytes to rank 0; a barrier ends the round.
//
// Rank 0 first begins a receive from every sender, then completes them in
// order. For push mechanisms (cma-write, procmem-write) beginning a receive
// posts rank 0's buffer address, so all senders copy into rank 0's memory at
// the same time: the contention on one address space that the CMA patch and
// the LWN article describe. With cma-read rank 0 itself copies from each
// sender in turn; run onetomany for the contention of many readers.
#include "harness/ranks/launcher.hpp"
#include "scenarios/support/fan.hpp"

namespace ipcatlas {

extern const Scenario kManyToOneScenario{
    .id = "manytoone",
    .summary = "each of N-1 senders delivers SIZE to rank 0 every round (incast); a barrier ends the round",
    .iteration = "one round",
    .name_keys = kCommonNameKeys,
    .counters = kFanCounters,
    .primary_metric = "round_ns",
    .sends_to = Peers::one,
    .receives_from = Peers::every_other,  // rank 0
    .ranks = 4,
    .min_ranks = 2,
    .max_ranks = kMaxRanks,
    .start =
        [](const Topology& topology, const CellSpec& cell) {
          return start_group_session(topology, cell, std::make_unique<FanPattern>(FanPattern::Direction::to_root));
        },
};

}  // namespace ipcatlas
