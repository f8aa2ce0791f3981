// The machinery every multi-rank scenario shares: a link for every pair of
// ranks the pattern needs, the forked ranks with one PeerChannel per link,
// batches of rounds, and each rank's times.
//
// A batch of R rounds runs, in every rank:
//   warm-up round | R timed rounds | one untimed round whose every message
//   is checked byte by byte
// Timed messages are checked by their stamps (harness/ranks/payload.hpp). When the
// pattern asks for it, a barrier ends every round (alltoall, manytoone,
// onetomany); each rank records the time of its rounds with and without
// that closing barrier.
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "scenarios/support/channel.hpp"
#include "scenarios/support/cpu_meter.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

// What one rank measured over a batch's timed rounds, in shared memory.
struct RankTimes {
  std::uint64_t total_ns;  // from the first round's start to the last round's end (closing barriers included)
  std::uint64_t busy_ns;   // the sum, over rounds, of the time until this rank's own transfers were done
  RankCpu cpu;             // this rank's CPU over the timed rounds (cpu_meter.hpp)
};

class Pattern {
 public:
  virtual ~Pattern() = default;
  // The pairs of ranks (lower first) that need a link.
  virtual std::vector<std::pair<int, int>> pairs(int ranks) const = 0;
  // Whether a barrier ends every round (else the transfers themselves synchronise).
  virtual bool barrier_ends_round() const = 0;
  // Whether `rank` receives payload (not only empty acknowledgements) in a round.
  virtual bool receives_payload(int rank, int ranks) const = 0;
  // Payload messages (of SIZE bytes, not empty acknowledgements) all ranks together deliver in a round.
  virtual std::uint64_t messages_per_round(int ranks) const = 0;
  // One round in rank `me`; by_peer[p] is the channel to rank p (nullptr if none).
  virtual void round(int me, int ranks, const std::vector<PeerChannel*>& by_peer, Check check) const = 0;
  // Counters from every rank's times over `rounds` timed rounds.
  virtual Measurement measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const = 0;
};

// A ScenarioSession for any Pattern.
std::unique_ptr<ScenarioSession> start_group_session(const Topology& topology, const CellSpec& cell,
                                                     std::unique_ptr<Pattern> pattern);

// Helpers for Pattern::measure.
double max_total_ns(std::span<const RankTimes> times);
double max_busy_ns(std::span<const RankTimes> times);
double min_busy_ns(std::span<const RankTimes> times);

}  // namespace ipcatlas
