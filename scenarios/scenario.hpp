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

#include "mechanisms/support/fault_injection.hpp"
#include "harness/machine/memory_binding.hpp"
#include "harness/machine/topology.hpp"
#include "harness/ranks/wait.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

// What only stream reads.
struct StreamOptions {
  int window = 64;             // messages per window
  bool bidirectional = false;  // both ranks send
};

// What correctness tests vary (also --buffer-offset and --inject-fault);
// measurements keep the defaults.
struct TestHooks {
  std::size_t buffer_offset = 0;  // bytes added to page alignment (tests use odd offsets)
  FaultPlan fault;
};

// One cell of the matrix: everything one benchmark needs.
struct CellSpec {
  const Mechanism* mechanism = nullptr;
  std::size_t size = 0;
  std::vector<int> cpus;  // one OS PU per rank (repeated when oversubscribed)
  WaitPolicy wait = WaitPolicy::spin;
  MemoryPolicy membind;   // where buffers and shared memory go
  double watchdog_seconds = 20.0;
  StreamOptions stream;   // stream only
  TestHooks test;
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

// How many peers one rank's payload goes to (or comes from) in a round.
enum class Peers {
  one,          // pingpong, stream; manytoone's senders, onetomany's receivers
  every_other,  // the root of manytoone or onetomany, every rank of alltoall
};
constexpr int peer_count(Peers peers, int ranks) { return peers == Peers::one ? 1 : ranks - 1; }

struct Scenario {
  std::string_view id;
  std::string_view summary;
  std::string_view iteration;  // what one Google Benchmark iteration is
  std::string_view counters;   // what it reports, for `list` and --help
  // The time counter that answers "how long does it take": compared,
  // plotted and gated on by the analysis, which reads it from the context.
  std::string_view primary_metric;
  // The most receivers one sender's payload goes to, and the most senders
  // one receiver's comes from: what decides whether a mechanism that lets
  // only one peer at a time reach a rank's memory can serve the pattern.
  Peers sends_to;
  Peers receives_from;
  int ranks;                   // ranks it runs with by default
  int min_ranks, max_ranks;
  std::unique_ptr<ScenarioSession> (*start)(const Topology& topology, const CellSpec& cell);
  // Empty if the scenario can run this cell; otherwise why not (beyond the
  // mechanism's own availability). May be null.
  std::string (*cannot_run)(const CellSpec& cell) = nullptr;
};

std::span<const Scenario* const> all_scenarios();
const Scenario* find_scenario(std::string_view id);
std::string scenario_ids();  // "pingpong, stream, ..." for messages
// Empty if `mechanism`'s traits let it serve `scenario` with `ranks` ranks;
// otherwise why not. A one_tracer_per_tracee mechanism cannot serve a
// pattern in which several peers would reach one rank's memory: the
// receivers of one sender when the receiver pulls, the senders of one
// receiver when the sender pushes.
std::string mechanism_cannot_serve(const Scenario& scenario, const Mechanism& mechanism, int ranks);


}  // namespace ipcatlas
