// What manytoone and onetomany report: both move (N-1) x SIZE per round
// between rank 0 and the others.
#pragma once

#include "scenarios/support/group.hpp"

namespace ipcatlas {

inline constexpr Counter kFanOwnCounters[] = {
    {"round_ns", "ns", "the slowest rank's time per round, closing barrier included", "round {}"},
    {"slowest_rank_ns", "ns", "the slowest rank's time per round until its own transfers were done", "slowest rank {}",
     true},
    {"bytes_per_second", "B/s", "(N-1) SIZE per round / round_ns", "{}"},
    {"root_ns", "ns", "rank 0's time per round until its own transfers were done"},
};
inline constexpr auto kFanCounters = with_cpu_counters(kFanOwnCounters);

// Rank 0 and the N-1 others, linked in a star. Every round rank 0 first
// begins an operation on every link, then completes them in order, so that
// rendezvous peers copy at the same time; a barrier ends the round.
class FanPattern final : public Pattern {
 public:
  enum class Direction { to_root, from_root };  // manytoone, onetomany
  explicit FanPattern(Direction direction) : direction_(direction) {}

  std::vector<std::pair<int, int>> pairs(int ranks) const override;
  bool barrier_ends_round() const override { return true; }
  bool receives_payload(int rank, int) const override {
    return direction_ == Direction::to_root ? rank == 0 : rank != 0;
  }
  std::uint64_t messages_per_round(int ranks) const override { return static_cast<std::uint64_t>(ranks - 1); }
  void round(int me, int ranks, const std::vector<PeerChannel*>& by_peer, Check check) const override;
  Measurement measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const override;

 private:
  Direction direction_;
};

}  // namespace ipcatlas
