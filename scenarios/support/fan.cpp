#include "scenarios/support/fan.hpp"

namespace ipcatlas {

std::vector<std::pair<int, int>> FanPattern::pairs(int ranks) const {
  std::vector<std::pair<int, int>> star;
  for (int peer = 1; peer < ranks; ++peer) star.emplace_back(0, peer);
  return star;
}

void FanPattern::round(int me, int ranks, const std::vector<PeerChannel*>& by_peer, Check check) const {
  const bool to_root = direction_ == Direction::to_root;
  if (me != 0) {
    if (to_root) by_peer[0]->send();
    else by_peer[0]->recv(check);
    return;
  }
  for (int p = 1; p < ranks; ++p) {
    PeerChannel& peer = *by_peer[static_cast<std::size_t>(p)];
    if (to_root) peer.begin_recv();
    else peer.begin_send();
  }
  for (int p = 1; p < ranks; ++p) {
    PeerChannel& peer = *by_peer[static_cast<std::size_t>(p)];
    if (to_root) peer.end_recv(check);
    else peer.end_send();
  }
}

Measurement FanPattern::measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const {
  const double r = static_cast<double>(rounds);
  const double round_ns = max_total_ns(times) / r;
  Measurement m;
  m.seconds_per_iteration = round_ns * 1e-9;
  m.counters["round_ns"] = round_ns;
  m.counters["bytes_per_second"] =
      static_cast<double>(times.size() - 1) * static_cast<double>(cell.size) / (round_ns * 1e-9);
  m.counters["slowest_rank_ns"] = max_busy_ns(times) / r;
  m.counters["root_ns"] = static_cast<double>(times[0].busy_ns) / r;
  return m;
}

}  // namespace ipcatlas
