#include "scenarios/fan.hpp"

namespace ipcatlas {

Measurement measure_fan(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) {
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

std::vector<std::pair<int, int>> star_pairs(int ranks) {
  std::vector<std::pair<int, int>> pairs;
  for (int peer = 1; peer < ranks; ++peer) pairs.emplace_back(0, peer);
  return pairs;
}

}  // namespace ipcatlas
