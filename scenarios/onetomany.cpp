// onetomany: every round rank 0 delivers SIZE bytes to each of N-1
// receivers; a barrier ends the round.
//
// Rank 0 first begins a send to every receiver, then completes them in order.
// For pull mechanisms (cma-read, procmem-read) beginning a send posts rank
// 0's buffer address, so all receivers copy from rank 0's memory at the same
// time: many readers of one address space. With cma-write rank 0 itself
// copies into each receiver in turn; run manytoone for many writers.
#include "harness/ranks/launcher.hpp"
#include "scenarios/support/fan.hpp"

namespace ipcatlas {

extern const Scenario kOneToManyScenario{
    .id = "onetomany",
    .summary = "rank 0 delivers SIZE to each of N-1 receivers every round; a barrier ends the round",
    .iteration = "one round",
    .name_keys = kCommonNameKeys,
    .counters = kFanCounters,
    .primary_metric = "round_ns",
    .sends_to = Peers::every_other,  // rank 0
    .receives_from = Peers::one,
    .ranks = 4,
    .min_ranks = 2,
    .max_ranks = kMaxRanks,
    .start =
        [](const Topology& topology, const CellSpec& cell) {
          return start_group_session(topology, cell, std::make_unique<FanPattern>(FanPattern::Direction::from_root));
        },
};

}  // namespace ipcatlas
