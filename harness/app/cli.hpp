// The command line: `ipcatlas list`, `ipcatlas run`, `ipcatlas doctor`, and
// the analysis commands `ipcatlas plot|thresholds|compare|history|report`,
// whose arguments (--help too) pass through untouched to the Python package
// (see analysis_command.hpp).
//
// parse_command_line() only parses and validates what needs no machine
// knowledge (sizes, ids, numbers); CPUs are checked against the topology
// later. Any bad value throws UsageError with a one-line message that names
// it; main() prints it and exits with status 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/app/benchmark_flags.hpp"
#include "mechanisms/support/fault_injection.hpp"
#include "harness/machine/memory_binding.hpp"
#include "harness/app/run_order.hpp"
#include "harness/ranks/wait.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

struct ListOptions {
  bool json = false;
  bool placements = false;  // --placements: the named placements instead of mechanisms
  std::string topology;     // --topology FILE.xml: preview another machine's placements
  int ranks = 2;
};

struct DoctorOptions {
  bool json = false;
  std::vector<int> cpus;  // empty: the default pair
};

struct RunOptions {
  std::vector<std::string> mechanisms;  // empty: every mechanism (unavailable ones are reported as skipped)
  std::string scenario = "pingpong";
  std::vector<std::size_t> sizes;
  std::vector<int> cpus;       // empty: from --placement or the default placement
  int ranks = 0;               // 0: the scenario's default
  int window = 64;             // stream: 1 to kMaxWindow
  bool bidirectional = false;  // stream
  std::string placement;       // a named placement, "all", or empty
  MemoryPolicy membind;
  std::vector<std::size_t> segments{1};  // --segments 1,16: scatter/gather messages of N segments, each a dimension
  WaitPolicy wait = WaitPolicy::spin;
  std::vector<CacheState> caches{CacheState::hot};  // --cache hot,cold: each is a dimension of the matrix
  bool wait_given = false;                          // --wait was given (else oversubscribed runs block)
  std::string out;                                  // Google Benchmark JSON; empty: none
  double watchdog_seconds = 20.0;
  std::size_t buffer_offset = 0;
  FaultPlan fault;
  std::map<std::string, std::size_t> size_caps;  // --size-cap ID=SIZE: overrides a mechanism's default cap
  RunOrder order = RunOrder::blocked;
  std::uint64_t seed = 0;  // of the run order
  bool seed_given = false;
  int canary_retries = 0;  // see CanaryPolicy
  double canary_factor = 2.0;
  BenchmarkFlags benchmark;  // --benchmark_*, checked; some are applied by ipcatlas itself
};

// An analysis command, run by Python: its name and every argument after it, verbatim.
struct AnalysisOptions {
  std::string command;  // plot, thresholds, compare, history or report
  std::vector<std::string> args;
};

struct Command {
  enum class Kind { list, run, doctor, analysis, help };
  Kind kind = Kind::help;
  ListOptions list;
  RunOptions run;
  DoctorOptions doctor;
  AnalysisOptions analysis;
  std::string help_text;  // for Kind::help
};

inline constexpr const char* kDefaultSizes = "1:4M";
// A window beyond this keeps one iteration busy for longer than any watchdog.
inline constexpr int kMaxWindow = 4096;
// --segments: 4096 segments is 4x the kernel's IOV_MAX, enough to show the
// calls looping over it, and their iovec tables stay at 64 KiB a side.
inline constexpr std::size_t kMaxSegments = 4096;
inline constexpr double kMaxWatchdogSeconds = 3600;

// `args` excludes the program name. Throws UsageError.
Command parse_command_line(const std::vector<std::string>& args);

// "0,3" -> {0, 3}. Throws UsageError naming the bad item.
std::vector<int> parse_cpu_list(const std::string& text);

}  // namespace ipcatlas
