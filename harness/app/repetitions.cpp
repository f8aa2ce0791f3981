#include "harness/app/repetitions.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ipcatlas {
namespace {

using Run = benchmark::BenchmarkReporter::Run;
using Values = std::vector<double>;

double mean(const Values& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

double median(Values v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// The sample standard deviation, as Google Benchmark computes it.
double stddev(const Values& v) {
  const double m = mean(v);
  double squares = 0;
  for (double x : v) squares += (x - m) * (x - m);
  return std::sqrt(squares / static_cast<double>(v.size() - 1));
}

double cv(const Values& v) {
  const double m = mean(v);
  return m == 0 ? 0 : stddev(v) / m;
}

struct Statistic {
  const char* name;
  double (*compute)(const Values&);
  benchmark::StatisticUnit unit;
};

double median_of(const Values& v) { return median(v); }

constexpr Statistic kStatistics[] = {
    {"mean", mean, benchmark::kTime},
    {"median", median_of, benchmark::kTime},
    {"stddev", stddev, benchmark::kTime},
    {"cv", cv, benchmark::kPercentage},
};

template <class Field>
Values collect(const std::vector<const Run*>& runs, Field field) {
  Values values;
  for (const Run* run : runs) values.push_back(field(*run));
  return values;
}

// One aggregate row. Times are kept the way Google Benchmark keeps them: an
// accumulated time over `iterations`, so that its reporters print
// accumulated / iterations; a percentage is printed as it is.
Run aggregate_row(const std::vector<const Run*>& ok, const Statistic& stat, std::size_t repetitions) {
  Run row = *ok.front();
  row.run_type = Run::RT_Aggregate;
  row.repetitions = static_cast<std::int64_t>(repetitions);
  row.repetition_index = Run::no_repetition_index;
  row.aggregate_name = stat.name;
  row.aggregate_unit = stat.unit;
  row.iterations = static_cast<benchmark::IterationCount>(ok.size());
  const auto per_iteration = [](double accumulated, const Run& r) {
    return accumulated / static_cast<double>(r.iterations);
  };
  const double real =
      stat.compute(collect(ok, [&](const Run& r) { return per_iteration(r.real_accumulated_time, r); }));
  const double cpu = stat.compute(collect(ok, [&](const Run& r) { return per_iteration(r.cpu_accumulated_time, r); }));
  const double scale = stat.unit == benchmark::kTime ? static_cast<double>(ok.size()) : 1.0;
  row.real_accumulated_time = real * scale;
  row.cpu_accumulated_time = cpu * scale;
  for (auto& [key, counter] : row.counters) {
    const std::string name = key;
    counter.value = stat.compute(collect(ok, [&](const Run& r) {
      const auto it = r.counters.find(name);
      return it == r.counters.end() ? 0.0 : it->second.value;
    }));
  }
  return row;
}

}  // namespace

std::vector<Run> aggregate_repetitions(const std::vector<Run>& repetitions) {
  std::vector<const Run*> ok;
  for (const Run& run : repetitions)
    if (!run.error_occurred && run.iterations > 0) ok.push_back(&run);
  if (ok.size() < 2) return {};
  std::vector<Run> rows;
  for (const Statistic& stat : kStatistics) rows.push_back(aggregate_row(ok, stat, repetitions.size()));
  return rows;
}

Run Repetitions::number(const Run& run) {
  std::vector<Run>& seen = pending_[run.run_name.str()];
  Run numbered = run;
  numbered.repetition_index = static_cast<std::int64_t>(seen.size());
  numbered.repetitions = count_;
  seen.push_back(numbered);
  return numbered;
}

std::optional<Repetitions::Completed> Repetitions::take_completed(const std::string& run_name) {
  const auto it = pending_.find(run_name);
  if (it == pending_.end() || static_cast<int>(it->second.size()) < count_) return std::nullopt;
  Completed done{std::move(it->second), {}};
  pending_.erase(it);
  if (count_ > 1) done.aggregates = aggregate_repetitions(done.repetitions);
  return done;
}

}  // namespace ipcatlas
