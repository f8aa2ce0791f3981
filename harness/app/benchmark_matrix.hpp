// Turns `ipcatlas run` options into Google Benchmark benchmarks.
//
// Every cell of the matrix (scenario x mechanism x size x ...) becomes one
// benchmark registered at run time. A cell that cannot run (mechanism
// unavailable, scenario not supported) is still registered: it reports
// "skipped: <reason>" and is never silently missing.
//
// Google Benchmark calls a benchmark's function once per calibration round
// and once per repetition. The ranks of a cell are forked on its first call
// and kept alive until another cell runs, so forking, pinning and setting up
// the mechanism happen once per cell and never inside a measurement.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/app/cli.hpp"
#include "harness/app/run_order.hpp"
#include "harness/machine/topology.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

struct MatrixCell {
  const Scenario* scenario = nullptr;
  CellSpec spec;
  std::string name;         // pingpong/shm/size:4096/ranks:2/placement:l3/wait:spin
  std::string skip_reason;  // non-empty: reported as skipped with this reason
  std::string block_key;    // the name without its mechanism: the cells of one block share it
  std::string failure;      // non-empty: reported as failed with this message (a probe that ran out of a resource)
};

struct Matrix {
  std::vector<MatrixCell> cells;
  std::vector<const Mechanism*> mechanisms;
  std::map<std::string, std::size_t> size_caps;  // mechanism id -> largest size measured
  int ranks = 2;
  std::vector<std::string> placements;  // the placement class of each swept placement
  bool oversubscribed = false;          // more ranks than distinct PUs somewhere
  WaitPolicy wait = WaitPolicy::spin;   // as run (block when oversubscribed unless --wait was given)
};

// Checks ids, ranks, CPUs and placements (UsageError) and probes every
// selected mechanism once.
Matrix build_matrix(const RunOptions& options, const Topology& topology);

// SCENARIO/MECHANISM and the scenario's name keys, e.g.
// stream/shm/size:S/ranks:N/window:W/dir:uni|bi/placement:P/wait:W[/membind:M]
std::string benchmark_name(const Scenario& scenario, const CellSpec& cell, const std::string& placement);

// Registers every run of `schedule` with Google Benchmark, in its order;
// the repetitions of a cell share its name (see repetitions.hpp). `matrix`
// must outlive the run.
// What to do when the drift canary says the host left its usual state
// (canary.hpp): measure the canary again, up to `retries` times 100 ms
// apart, while it is off from the run's median so far by more than `factor`;
// then measure anyway and mark the run (canary_outlier).
struct CanaryPolicy {
  int retries = 0;
  double factor = 2.0;
};

void register_matrix(const Matrix& matrix, const Topology& topology, const std::vector<ScheduledRun>& schedule,
                     CanaryPolicy canary);

// The block keys of the matrix's cells, for schedule_runs.
std::vector<std::string> block_keys(const Matrix& matrix);

// Every run started so far, in order.
const std::vector<RunRecord>& run_records();

// Stops the ranks of the cell that ran last. Call after RunSpecifiedBenchmarks.
void end_live_session();

}  // namespace ipcatlas
