// Repetitions, run and aggregated by ipcatlas rather than Google Benchmark.
//
// Google Benchmark 1.7.1 cannot aggregate repetitions of which one failed:
// it aborts when their iteration counts differ (statistics.cc:135) and
// crashes when the first one failed (it reads that run's statistics, which
// an errored run never gets). ipcatlas therefore registers each repetition
// as a benchmark of its own, under the benchmark's name, and this class
// gives the runs back their place: `repetition_index` and `repetitions` as
// Google Benchmark would write them, and, once a benchmark's last repetition
// is in, the mean, median, stddev and cv aggregates over its successful
// repetitions. With fewer than two successful repetitions there are no
// aggregates, as in Google Benchmark.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ipcatlas {

class Repetitions {
 public:
  using Run = benchmark::BenchmarkReporter::Run;

  struct Completed {
    std::vector<Run> repetitions;  // every repetition, in the order they ran
    std::vector<Run> aggregates;   // mean, median, stddev, cv; empty with < 2 successful repetitions
  };

  explicit Repetitions(int count) : count_(count) {}

  // Numbers one repetition's run (Google Benchmark reports each as repetition
  // 0 of 1) and remembers it.
  Run number(const Run& run);

  // The benchmark named `run_name`, once all its repetitions are in; then forgets it.
  std::optional<Completed> take_completed(const std::string& run_name);

 private:
  int count_;
  std::map<std::string, std::vector<Run>> pending_;
};

// The aggregates of `repetitions` (see above); exposed for tests.
std::vector<benchmark::BenchmarkReporter::Run> aggregate_repetitions(
    const std::vector<benchmark::BenchmarkReporter::Run>& repetitions);

}  // namespace ipcatlas
