// A scenario is a communication pattern written once over the Link interface.
//
// The driver starts one ScenarioSession per benchmark (matrix cell). The
// session creates the links, forks the ranks (RankGroup) and keeps them alive
// across Google Benchmark's calibration rounds and repetitions; each call of
// run_batch() runs one batch of iterations on the ranks and returns what
// they measured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/fault_injection.hpp"
#include "harness/topology.hpp"
#include "harness/wait.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

// One cell of the matrix: everything one benchmark needs.
struct CellSpec {
  const Mechanism* mechanism = nullptr;
  std::size_t size = 0;
  std::vector<int> cpus;  // one OS PU per rank
  WaitPolicy wait = WaitPolicy::spin;
  double watchdog_seconds = 20.0;
  std::size_t buffer_offset = 0;  // bytes added to page alignment (tests use odd offsets)
  FaultPlan fault;                // tests only
};

// What one batch measured.
struct Measurement {
  double seconds_per_iteration = 0;
  std::map<std::string, double> counters;
};

class ScenarioSession {
 public:
  virtual ~ScenarioSession() = default;
  // Runs `iterations` iterations on the ranks. Throws RankFailure when a rank
  // dies, hangs, or reports an error (such as a payload mismatch).
  virtual Measurement run_batch(std::uint64_t iterations) = 0;
};

struct Scenario {
  std::string_view id;
  std::string_view summary;
  std::string_view iteration;  // what one Google Benchmark iteration is
  int ranks;                   // ranks it runs with by default
  std::unique_ptr<ScenarioSession> (*start)(const Topology& topology, const CellSpec& cell);
};

std::span<const Scenario* const> all_scenarios();
const Scenario* find_scenario(std::string_view id);

}  // namespace ipcatlas
