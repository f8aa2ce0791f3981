// The order benchmarks run in: an experiment design, not a loop nest.
//
// The host moves a VM's vCPUs between states within seconds (the bare
// cache-line bounce between two PUs can read 50 ns, then 250 ns). When all
// repetitions of one benchmark run back to back, they share one state: they
// agree with each other, and the next benchmark may run in another state. A
// comparison of mechanism A against B at one size then measures the host.
//
// - blocked (the default): for each repetition, for each cell of the matrix
//   but the mechanism (scenario, size, ranks, placement, ...), the
//   mechanisms run back to back in a fresh random order. Such a group is a
//   block: what users compare is measured seconds apart, in the same block.
// - interleaved: every (benchmark, repetition) pair in one random order.
// - sequential: every repetition of a benchmark back to back, benchmarks in
//   matrix order (what Google Benchmark does).
// The order is drawn from a seed that the run records, so it can be replayed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipcatlas {

enum class RunOrder { blocked, interleaved, sequential };

RunOrder parse_run_order(std::string_view text);  // throws UsageError
const char* to_string(RunOrder order);

// One benchmark run: which cell of the matrix, which repetition, and where
// it stands in the run (block, position in the block). Sequential and
// interleaved runs have one block per benchmark run.
struct ScheduledRun {
  std::size_t cell = 0;
  int repetition = 0;
  int block = 0;
  int position = 0;
};

// What one benchmark run was, recorded as it starts, in the order runs
// happen; written into the run's JSON entry (annotate_json).
struct RunRecord {
  std::string name;
  int repetition = 0, block = 0, position = 0;
  double start_unix_s = 0;
  std::optional<double> canary_ns;  // see canary.hpp; none when the ranks share a PU or the run is skipped
  bool canary_outlier = false;      // still off by more than the canary factor after every retry
};

// `block_keys[i]` names cell i's block: cells with equal keys differ only in
// their mechanism. Cells are given in matrix order.
std::vector<ScheduledRun> schedule_runs(const std::vector<std::string>& block_keys, int repetitions, RunOrder order,
                                        std::uint64_t seed);

}  // namespace ipcatlas
