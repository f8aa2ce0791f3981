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
#include <optional>
#include <span>
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

// --cache: every message reuses one buffer at each end (hot, as OSU and
// ucx_perftest do), or rotates through a pool of buffers larger than the
// last-level cache (cold, as IMB's -off_cache; scenarios/support/buffer_pool.hpp).
enum class CacheState { hot, cold };
std::string_view to_string(CacheState cache);
// "hot" or "cold"; nothing for any other text.
std::optional<CacheState> cache_state_named(std::string_view text);

// One cell of the matrix: everything one benchmark needs.
struct CellSpec {
  const Mechanism* mechanism = nullptr;
  std::size_t size = 0;
  std::vector<int> cpus;  // one OS PU per rank (repeated when oversubscribed)
  WaitPolicy wait = WaitPolicy::spin;
  MemoryPolicy membind;  // where buffers and shared memory go
  CacheState cache = CacheState::hot;
  // cold: each rank's send buffers, and its receive buffers, each total at
  // least this (twice the last-level cache above the ranks' PUs).
  std::size_t cold_pool_bytes = 0;
  // --segments: every message is scatter/gather in this many segments (1: contiguous)
  std::size_t segments = 1;
  double watchdog_seconds = 20.0;
  StreamOptions stream;  // stream only
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

// One counter a scenario reports: a field of every result, and maybe a part
// of the console line.
struct Counter {
  std::string_view name;  // the field, e.g. "one_way_ns"
  std::string_view unit;  // "ns", "B/s", "1/s" or "1"
  std::string_view what;  // one line, for `list` and the results' context
  // On the console line: a pattern in which {} is the value, formatted for
  // its unit ("one-way {}"); empty: not shown. An `aside` goes in
  // parentheses after the shown counter before it, beside the other asides
  // that follow it: "one-way 1.2 us (p50 1.1 us, p99 2.0 us)".
  std::string_view console = {};
  bool aside = false;
  // A family, one counter per rank: `name` holds "{rank}" ("cpu_user_r{rank}_ns").
  bool per_rank = false;
  // Reported only where the machine allows it (perf_event_open), absent elsewhere.
  bool optional = false;
};

// The key:value parts of the benchmark names of every scenario: SCENARIO/
// MECHANISM/size:S/ranks:N/placement:P/wait:W[/membind:M][/cache:cold][/segments:N]
// (membind only when --membind is given, cache only when cold, segments only
// when N > 1, so that the names of earlier runs still match). Keys are in the
// order the names list them.
inline constexpr std::string_view kCommonNameKeys[] = {"size",    "ranks", "placement", "wait",
                                                       "membind", "cache", "segments"};

// How many peers one rank's payload goes to (or comes from) in a round.
enum class Peers {
  one,          // pingpong, stream; manytoone's senders, onetomany's receivers
  every_other,  // the root of manytoone or onetomany, every rank of alltoall
};
constexpr int peer_count(Peers peers, int ranks) { return peers == Peers::one ? 1 : ranks - 1; }

struct Scenario {
  std::string_view id;
  std::string_view summary;
  std::string_view iteration;                   // what one Google Benchmark iteration is
  std::span<const std::string_view> name_keys;  // the key:value parts of its benchmark names, in order
  std::span<const Counter> counters;            // everything it reports, in console order
  // The time counter that answers "how long does it take": compared,
  // plotted and gated on by the analysis, which reads it from the context.
  std::string_view primary_metric;
  // The most receivers one sender's payload goes to, and the most senders
  // one receiver's comes from: what decides whether a mechanism that lets
  // only one peer at a time reach a rank's memory can serve the pattern.
  Peers sends_to;
  Peers receives_from;
  int ranks;  // ranks it runs with by default
  int min_ranks, max_ranks;
  std::unique_ptr<ScenarioSession> (*start)(const Topology& topology, const CellSpec& cell);
  // Empty if the scenario can run this cell; otherwise why not (beyond the
  // mechanism's own availability). May be null.
  std::string (*cannot_run)(const CellSpec& cell) = nullptr;
};

std::span<const Scenario* const> all_scenarios();
const Scenario* find_scenario(std::string_view id);
std::string scenario_ids();  // "pingpong, stream, ..." for messages
const Counter* find_counter(const Scenario& scenario, std::string_view name);

// Empty if `mechanism`'s traits let it serve `scenario` with `ranks` ranks;
// otherwise why not. A one_tracer_per_tracee mechanism cannot serve a
// pattern in which several peers would reach one rank's memory: the
// receivers of one sender when the receiver pulls, the senders of one
// receiver when the sender pushes.
std::string mechanism_cannot_serve(const Scenario& scenario, const Mechanism& mechanism, int ranks);

// Empty if the cell's cache state can be honoured; otherwise why not: a cold
// cell needs the cache size from hwloc, memory for its pools, and a buffer
// to rotate (zerocopy's sender writes in place in the memory the link maps).
std::string cache_cannot_serve(const CellSpec& cell);

// Empty if the cell's --segments can run; otherwise why not: the mechanism
// refuses scatter/gather (its segments_refusal), or SIZE < N (a segment
// would be empty). N not dividing SIZE is allowed (message_layout.hpp).
std::string segments_cannot_run(const Mechanism& mechanism, const CellSpec& cell);

}  // namespace ipcatlas
