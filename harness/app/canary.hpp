// The drift canary: the bare cache-line bounce between the PUs a benchmark
// runs on, measured just before it, outside its timed region.
//
// On a VM the host moves vCPUs between states within seconds: two vCPUs on
// cores that share a cache bounce a line in ~50 ns, on cores across the
// interconnect in ~250 ns, and every mechanism's figures move with it. The
// canary says which state each measurement was taken in, so the analysis
// can compare like with like instead of blending the states.
//
// It is measured before every benchmark run (not once per block) because a
// block lasts seconds and the state can change within one; it costs about
// 5 ms a run. Two threads of the driver bounce the line while the ranks
// sleep between batches.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ipcatlas {

inline constexpr double kCanaryBudgetSeconds = 0.005;

// One-way nanoseconds of a cache line bounced between two PUs for about
// `seconds`. nullopt when a == b (one PU cannot bounce a line with itself)
// or a thread cannot be pinned.
std::optional<double> cache_line_bounce_ns(int pu_a, int pu_b, double seconds = kCanaryBudgetSeconds);

// What the canaries of a run say about the host.
struct CanarySummary {
  std::size_t count = 0;
  double median_ns = 0, p10_ns = 0, p90_ns = 0, min_ns = 0, max_ns = 0;
  // Two modes when the sorted values split at a gap of at least kModeGap
  // (in ratio) with at least 10% of the values on each side.
  bool multimodal = false;
  double low_mode_ns = 0, high_mode_ns = 0, split_ns = 0;
  std::size_t low_count = 0, high_count = 0;
};

inline constexpr double kModeGap = 1.5;

CanarySummary summarize_canaries(std::vector<double> values);

// "canary 52 ns median (p10 48, p90 260); two states: ~50 ns (n=40) and ~250 ns (n=12)"
std::string describe(const CanarySummary& summary);

}  // namespace ipcatlas
