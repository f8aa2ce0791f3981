// The CPU time each rank spends over its measured region, user and system
// apart, and (where perf_event_open works) its cycles and last-level cache
// misses, kernel included: what a message costs the machine, on both sides.
//
// Per message, the same for every scenario: a rank's CPU time over its
// measured region / the payload messages (of SIZE bytes) the scenario
// delivered in that region, all ranks' messages together, empty
// acknowledgements not counted. cpu_ns sums that over the ranks: the CPU the
// whole group spent per message delivered. Which region: the timed rounds of
// the multi-rank scenarios exactly; pingpong's timed round trips together
// with the untimed check and resync round trips between them (2 in 258),
// which are counted as messages too.
//
// Under --wait spin a waiting rank burns its CPU polling, so its CPU time is
// the elapsed time, whatever the message needed; under block (and eventfd)
// a waiting rank sleeps and CPU time is the work.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "harness/machine/perf_counters.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

// What one rank measured over its region, in shared memory for the driver.
struct RankCpu {
  std::uint64_t user_ns = 0;
  std::uint64_t sys_ns = 0;
  double cycles = 0;  // scaled for multiplexing (perf_delta)
  double llc_misses = 0;
  std::uint64_t messages = 0;  // payload messages the scenario delivered in the region
  bool counted = false;        // cycles and llc_misses were counted
};

// Lives in one rank (a single-threaded process), opened after fork.
class CpuMeter {
 public:
  // Opens a perf group of `events` (cycles and LLC misses; tests pass software
  // events) if the kernel allows it; otherwise counts CPU time only.
  explicit CpuMeter(std::span<const PerfEvent> events = kRankEvents);
  void start();
  // The rank's CPU since start(), for `messages` messages.
  RankCpu stop(std::uint64_t messages) const;
  bool counts_events() const { return perf_ != nullptr; }

 private:
  std::unique_ptr<PerfCounterGroup> perf_;
  std::uint64_t user_ns_ = 0, sys_ns_ = 0;
  PerfReading events_;
};

// The counters every scenario reports, appended to its own (with_cpu_counters).
inline constexpr std::string_view kCpuMetric = "cpu_ns";
inline constexpr Counter kCpuCounters[] = {
    {.name = "cpu_ns",
     .unit = "ns",
     .what = "CPU time (user + system) of all ranks per message delivered; includes spinning under --wait spin",
     .console = "cpu {}/msg",
     .aside = true},
    {.name = "cpu_user_ns",
     .unit = "ns",
     .what = "user CPU time of all ranks per message (tick-sampled split, see cpu_ns)"},
    {.name = "cpu_sys_ns",
     .unit = "ns",
     .what = "system CPU time of all ranks per message (tick-sampled split, see cpu_ns)"},
    {.name = "cpu_user_r{rank}_ns",
     .unit = "ns",
     .what = "user CPU time of one rank per message delivered",
     .per_rank = true},
    {.name = "cpu_sys_r{rank}_ns",
     .unit = "ns",
     .what = "system CPU time of one rank per message delivered",
     .per_rank = true},
    {.name = "cycles",
     .unit = "1",
     .what = "CPU cycles of all ranks per message, user and kernel (perf_event_open; absent where refused)",
     .optional = true},
    {.name = "llc_misses",
     .unit = "1",
     .what = "last-level cache misses of all ranks per message, user and kernel (perf)",
     .optional = true},
    {.name = "cycles_r{rank}",
     .unit = "1",
     .what = "CPU cycles of one rank per message, user and kernel (perf)",
     .per_rank = true,
     .optional = true},
    {.name = "llc_misses_r{rank}",
     .unit = "1",
     .what = "last-level cache misses of one rank per message (perf)",
     .per_rank = true,
     .optional = true},
};

// A scenario's own counters followed by kCpuCounters, for its descriptor.
template <std::size_t N>
constexpr std::array<Counter, N + std::size(kCpuCounters)> with_cpu_counters(const Counter (&own)[N]) {
  std::array<Counter, N + std::size(kCpuCounters)> all{};
  for (std::size_t i = 0; i < N; ++i) all[i] = own[i];
  for (std::size_t i = 0; i < std::size(kCpuCounters); ++i) all[N + i] = kCpuCounters[i];
  return all;
}

// A per-rank counter's name for one rank: "cpu_user_r{rank}_ns" -> "cpu_user_r3_ns".
std::string rank_counter_name(std::string_view pattern, int rank);

// Adds kCpuCounters to `m` from every rank's RankCpu; the perf counters only
// when every rank counted them.
void add_cpu_counters(Measurement& m, std::span<const RankCpu> ranks);

}  // namespace ipcatlas
