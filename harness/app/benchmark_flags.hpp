// Google Benchmark's --benchmark_* flags, checked before Google Benchmark
// sees them.
//
// Left to itself, Google Benchmark 1.7.1 prints its usage and exits 0 on a
// bad --benchmark_format, crashes in vector::reserve on a negative
// --benchmark_repetitions, and reads "--benchmark_list_tests=abc" as true.
// Every flag is therefore validated here, and bad values are UsageErrors
// (exit 2, one line naming the value and what it accepts). Some flags take
// on a meaning of ipcatlas's own and are not passed on:
// - --benchmark_repetitions: ipcatlas runs each repetition as a benchmark of
//   its own and aggregates them itself (repetitions.hpp), so that one failed
//   repetition cannot abort the run;
// - --benchmark_report_aggregates_only / --benchmark_display_aggregates_only:
//   applied to those aggregates;
// - --benchmark_out / --benchmark_out_format: refused, --out writes the JSON;
// - --benchmark_time_unit: refused, every ipcatlas time is in ns.
#pragma once

#include <string>
#include <vector>

namespace ipcatlas {

inline constexpr int kMaxRepetitions = 1000;

struct BenchmarkFlags {
  int repetitions = 1;
  bool report_aggregates_only = false;   // the JSON keeps only the aggregates
  bool display_aggregates_only = false;  // the console shows only the aggregates
  bool list_tests = false;               // print the names, run nothing
  std::string format = "console";        // console, json or csv
  std::vector<std::string> passthrough;  // validated flags for Google Benchmark, as given
};

// Parses every --benchmark_* argument. Throws UsageError on an unknown flag
// or a bad value.
BenchmarkFlags parse_benchmark_flags(const std::vector<std::string>& args);

}  // namespace ipcatlas
