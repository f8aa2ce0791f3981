// ipcatlas's own repetitions: numbered as Google Benchmark numbers them, and
// aggregated over the successful ones whichever repetition failed, the first
// included (where Google Benchmark 1.7.1 aborts or crashes).
#include "harness/app/repetitions.hpp"

#include <gtest/gtest.h>

namespace ipcatlas {
namespace {

using BenchmarkRun = benchmark::BenchmarkReporter::Run;

BenchmarkRun repetition(double seconds_per_iteration, double one_way_ns, benchmark::IterationCount iterations = 100) {
  BenchmarkRun run;
  run.run_name.function_name = "pingpong/shm/size:64";
  run.iterations = iterations;
  run.real_accumulated_time = seconds_per_iteration * static_cast<double>(iterations);
  run.cpu_accumulated_time = run.real_accumulated_time / 2;
  run.counters["one_way_ns"] = benchmark::Counter(one_way_ns);
  return run;
}

BenchmarkRun failed_repetition() {
  BenchmarkRun run;
  run.run_name.function_name = "pingpong/shm/size:64";
  run.error_occurred = true;
  run.error_message = "rank 1 was killed by signal 9 (SIGKILL)";
  run.iterations = 0;
  return run;
}

const BenchmarkRun& aggregate(const std::vector<BenchmarkRun>& rows, const std::string& name) {
  for (const BenchmarkRun& r : rows)
    if (r.aggregate_name == name) return r;
  throw std::runtime_error("no aggregate " + name);
}

TEST(Repetitions, NumbersEachRepetitionAndAggregatesAfterTheLast) {
  Repetitions reps(3);
  EXPECT_EQ(reps.number(repetition(4e-6, 2000)).repetition_index, 0);
  EXPECT_FALSE(reps.take_completed("pingpong/shm/size:64"));
  reps.number(repetition(2e-6, 1000, 50));
  const BenchmarkRun third = reps.number(repetition(3e-6, 1500));
  EXPECT_EQ(third.repetition_index, 2);
  EXPECT_EQ(third.repetitions, 3);
  const auto done = reps.take_completed("pingpong/shm/size:64");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->repetitions.size(), 3u);
  ASSERT_EQ(done->aggregates.size(), 4u);
  const BenchmarkRun& median = aggregate(done->aggregates, "median");
  EXPECT_EQ(median.run_type, BenchmarkRun::RT_Aggregate);
  EXPECT_EQ(median.benchmark_name(), "pingpong/shm/size:64_median");
  EXPECT_DOUBLE_EQ(median.GetAdjustedRealTime(), 3000);  // ns, as the reporters print it
  EXPECT_DOUBLE_EQ(median.counters.at("one_way_ns").value, 1500);
  EXPECT_DOUBLE_EQ(aggregate(done->aggregates, "mean").GetAdjustedRealTime(), 3000);
  EXPECT_DOUBLE_EQ(aggregate(done->aggregates, "stddev").counters.at("one_way_ns").value, 500);
  const BenchmarkRun& cv = aggregate(done->aggregates, "cv");
  EXPECT_EQ(cv.aggregate_unit, benchmark::kPercentage);
  EXPECT_NEAR(cv.real_accumulated_time, 1e-6 / 3e-6, 1e-12);
  EXPECT_FALSE(reps.take_completed("pingpong/shm/size:64")) << "forgotten once taken";
}

TEST(Repetitions, AFailedFirstRepetitionLeavesTheOthersAggregated) {
  const std::vector<BenchmarkRun> runs = {failed_repetition(), repetition(2e-6, 1000), repetition(4e-6, 2000)};
  const std::vector<BenchmarkRun> rows = aggregate_repetitions(runs);
  ASSERT_EQ(rows.size(), 4u);
  const BenchmarkRun& mean = aggregate(rows, "mean");
  EXPECT_FALSE(mean.error_occurred);
  EXPECT_EQ(mean.iterations, 2) << "over the two successful repetitions";
  EXPECT_EQ(mean.repetitions, 3);
  EXPECT_DOUBLE_EQ(mean.counters.at("one_way_ns").value, 1500);
}

TEST(Repetitions, FewerThanTwoSuccessfulRepetitionsGiveNoAggregates) {
  EXPECT_TRUE(aggregate_repetitions({failed_repetition(), repetition(2e-6, 1000), failed_repetition()}).empty());
  Repetitions once(1);
  once.number(repetition(2e-6, 1000));
  const auto done = once.take_completed("pingpong/shm/size:64");
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->aggregates.empty()) << "a single repetition has no aggregates";
}

}  // namespace
}  // namespace ipcatlas
