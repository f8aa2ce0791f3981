// How results leave ipcatlas.
//
// The console shows one line per benchmark as it completes, with a [k/N]
// progress counter and the counters its scenario's descriptor shows
// (Counter::console: for pingpong the one-way latency, its distribution and
// the bandwidth);
// failed and skipped benchmarks show their reason; a reason that skips a
// mechanism at every size is shown once, not once per size and repetition
// (the JSON keeps every entry). (--benchmark_format=json
// or csv swaps this for Google Benchmark's own reporters.)
//
// The JSON file is written by Google Benchmark's JSONReporter into memory,
// then annotated (ipcatlas_status on every benchmark) and written to --out
// in one rename when the run completes, so an interrupted run leaves no
// half-written file.
#pragma once

#include <benchmark/benchmark.h>

#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/app/canary.hpp"
#include "harness/machine/machine_facts.hpp"
#include "harness/app/repetitions.hpp"
#include "harness/app/run_order.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

enum class RunStatus { ok, failed, skipped };

// Google Benchmark appends "/manual_time" to the name of every benchmark that
// times itself; ipcatlas names follow the design, so it is removed.
std::string strip_time_type(std::string name);
RunStatus status_of(const benchmark::BenchmarkReporter::Run& run);

// The counters of `run` that its scenario shows on the console, each through
// its Counter::console pattern, asides grouped in parentheses:
// "one-way 1.20 us (p50 1.1 us, p99 2.0 us)  1.23 GB/s".
std::string console_counters(const benchmark::BenchmarkReporter::Run& run, const Scenario& scenario);

struct RunTally {
  int ok = 0, failed = 0, skipped = 0;
  void add(RunStatus s);
};

class ProgressReporter final : public benchmark::BenchmarkReporter {
 public:
  // `total` is how many benchmarks will run; `warnings` are printed once at the start.
  ProgressReporter(int total, std::vector<Fact> warnings) : total_(total), warnings_(std::move(warnings)) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;

 private:
  void print_run(const Run& run);
  bool skip_already_shown(const Run& run);
  int total_;
  int done_ = 0;
  std::vector<Fact> warnings_;
  std::set<std::pair<std::string, std::string>> skips_shown_;  // (scenario/mechanism, reason)
};

// What --benchmark_repetitions and the *_aggregates_only flags ask for.
struct RepetitionOutput {
  int count = 1;
  bool report_aggregates_only = false;   // neither the JSON nor the console shows single repetitions
  bool display_aggregates_only = false;  // the console does not
};

// Sends everything to the display reporter and to a JSONReporter writing
// into memory, each repetition numbered and each benchmark's aggregates
// after its last repetition (see repetitions.hpp); counts the outcome of
// every benchmark.
class TeeReporter final : public benchmark::BenchmarkReporter {
 public:
  TeeReporter(benchmark::BenchmarkReporter& display, RepetitionOutput output);
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  const RunTally& tally() const { return tally_; }
  std::string json() const { return json_text_.str(); }

 private:
  void report_repetition(const Run& run);
  benchmark::BenchmarkReporter& display_;
  RepetitionOutput output_;
  Repetitions repetitions_;
  benchmark::JSONReporter json_;
  std::ostringstream json_text_;
  RunTally tally_;
};

// Strips "/manual_time" from names and adds "ipcatlas_status" (ok | failed |
// skipped) to every benchmark of a Google Benchmark JSON document, "block",
// "block_position", "start_unix_s" and the canary ("canary_ns",
// "canary_outlier", and "canary_state" 0 or 1 when the canary found two
// states) to each repetition from `records` (matched in order and by name),
// the canary's summary and the descriptors of every mechanism and of
// `scenario` (descriptors.hpp) to the context, and "skipped"/"skip_message"
// to skipped ones (the field names Google Benchmark 1.8 uses).
// error_occurred stays true on skipped entries, so tools that know nothing of
// ipcatlas never read a figure from them.
std::string annotate_json(const std::string& gbench_json, const std::vector<RunRecord>& records,
                          const CanarySummary& canary, const Scenario& scenario);

}  // namespace ipcatlas
