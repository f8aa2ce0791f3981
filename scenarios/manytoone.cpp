// manytoone (incast): every round, each of the N-1 senders delivers SIZE
// bytes to rank 0; a barrier ends the round.
//
// Rank 0 first begins a receive from every sender, then completes them in
// order. For push mechanisms (cma-write, procmem-write) beginning a receive
// posts rank 0's buffer address, so all senders copy into rank 0's memory at
// the same time: the contention on one address space that the CMA patch and
// the LWN article describe. With cma-read rank 0 itself copies from each
// sender in turn; run onetomany for the contention of many readers.
#include "harness/launcher.hpp"
#include "scenarios/fan.hpp"

namespace ipcatlas {
namespace {

class ManyToOnePattern final : public Pattern {
 public:
  std::vector<std::pair<int, int>> pairs(int ranks) const override { return star_pairs(ranks); }
  bool barrier_ends_round() const override { return true; }

  void round(int me, int ranks, const std::vector<PeerChannel*>& by_peer, Check check) const override {
    if (me != 0) {
      by_peer[0]->send();
      return;
    }
    for (int p = 1; p < ranks; ++p) by_peer[static_cast<std::size_t>(p)]->begin_recv();
    for (int p = 1; p < ranks; ++p) by_peer[static_cast<std::size_t>(p)]->end_recv(check);
  }

  Measurement measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const override {
    return measure_fan(cell, times, rounds);
  }
};

}  // namespace

extern const Scenario kManyToOneScenario{
    .id = "manytoone",
    .summary = "each of N-1 senders delivers SIZE to rank 0 every round (incast); a barrier ends the round",
    .iteration = "one round",
    .counters = "round_ns, bytes_per_second ((N-1) SIZE per round), slowest_rank_ns, root_ns",
    .ranks = 4,
    .min_ranks = 2,
    .max_ranks = kMaxRanks,
    .start = [](const Topology& topology, const CellSpec& cell) {
      return start_group_session(topology, cell, std::make_unique<ManyToOnePattern>());
    },
};

}  // namespace ipcatlas
