// The descriptors as the outside sees them: `ipcatlas list --json`, and the
// console line each scenario's table drives.
#include "harness/app/descriptors.hpp"

#include <gtest/gtest.h>

#include "harness/app/reporters.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

TEST(Descriptors, ListCarriesTheSameTraits) {
  const nlohmann::ordered_json doc = list_document();
  ASSERT_EQ(doc["mechanisms"].size(), all_mechanisms().size());
  for (const auto& m : doc["mechanisms"]) {
    const nlohmann::ordered_json expected = mechanism_json(*find_mechanism(m["id"].get<std::string>()));
    for (const auto& [key, value] : expected.items()) EXPECT_EQ(m[key], value) << m["id"] << " " << key;
  }
  const auto& stream = doc["scenarios"][1];
  EXPECT_EQ(stream["id"], "stream");
  EXPECT_EQ(stream["counters"]["messages_per_second"], "1/s");
  EXPECT_EQ(stream["name_keys"][2], "window");
}

benchmark::BenchmarkReporter::Run run_with(const std::map<std::string, double>& counters) {
  benchmark::BenchmarkReporter::Run run;
  for (const auto& [name, value] : counters) run.counters[name] = benchmark::Counter(value);
  return run;
}

TEST(Descriptors, TheConsoleLineFollowsTheScenariosTable) {
  const auto pingpong = run_with({{"one_way_ns", 1200}, {"p50_ns", 1100}, {"p99_ns", 2000}, {"p999_ns", 3500},
                                  {"max_ns", 9e6}, {"bytes_per_second", 1.23e9}, {"samples", 300}});
  EXPECT_EQ(console_counters(pingpong, *find_scenario("pingpong")),
            "one-way 1.20 us (p50 1.10 us, p99 2.00 us, p99.9 3.50 us, max 9.00 ms)  1.23 GB/s");
  const auto alltoall = run_with({{"round_ns", 1e6}, {"slowest_rank_ns", 9e5}, {"fastest_rank_ns", 8e5},
                                  {"per_message_ns", 75000}, {"bytes_per_second", 2e9}});
  EXPECT_EQ(console_counters(alltoall, *find_scenario("alltoall")),
            "round 1.00 ms (slowest rank 900.00 us)  per message 75.00 us  2.00 GB/s");
  const auto stream = run_with({{"window_ns", 640}, {"bytes_per_second", 5e8}, {"messages_per_second", 1e8}});
  EXPECT_EQ(console_counters(stream, *find_scenario("stream")), "window 640.0 ns  500.0 MB/s  1e+08 msg/s");
  // A percentile missing (no samples) leaves the others readable.
  const auto no_tail = run_with({{"one_way_ns", 500}, {"bytes_per_second", 1e6}});
  EXPECT_EQ(console_counters(no_tail, *find_scenario("pingpong")), "one-way 500.0 ns  1.0 MB/s");
}

}  // namespace
}  // namespace ipcatlas
