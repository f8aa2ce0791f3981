// The descriptors as the outside sees them: the context of a result file,
// `ipcatlas list --json`, and the console line each scenario's table drives.
#include "harness/app/descriptors.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "harness/app/reporters.hpp"
#include "mechanisms/registry.hpp"

namespace ipcatlas {
namespace {

nlohmann::json annotated_context(const Scenario& scenario) {
  const std::string gbench = R"({"context": {"scenario": "pingpong", "primary_metric": "one_way_ns"},
                                 "benchmarks": []})";
  return nlohmann::json::parse(annotate_json(gbench, {}, CanarySummary{}, scenario))["context"];
}

TEST(Descriptors, TheContextCarriesEveryMechanismAndTheRunsScenario) {
  const nlohmann::json context = annotated_context(*find_scenario("pingpong"));
  EXPECT_EQ(context["scenario"], "pingpong");  // Google Benchmark's own string values stay
  EXPECT_EQ(context["primary_metric"], "one_way_ns");
  ASSERT_EQ(context["mechanisms"].size(), all_mechanisms().size());
  const nlohmann::json& cma = context["mechanisms"]["cma-read"];
  EXPECT_EQ(cma["api"], "process_vm_readv");
  EXPECT_EQ(cma["moves"], "pull");
  EXPECT_EQ(cma["single_copy"], true);
  EXPECT_EQ(cma["reference"], false);
  EXPECT_EQ(cma["one_tracer_per_tracee"], false);
  EXPECT_EQ(cma["copies"], 1);
  EXPECT_EQ(cma["wait_policies"], nlohmann::json::array({"spin", "block", "adaptive", "eventfd"}));
  EXPECT_EQ(context["mechanisms"]["pipe"]["wait_policies"], nlohmann::json::array({"block"}));
  EXPECT_EQ(context["mechanisms"]["zerocopy"]["reference"], true);
  EXPECT_EQ(cma["mapping_page_size"], 0);  // moves bytes
  EXPECT_EQ(context["mechanisms"]["zerocopy"]["mapping_page_size"], 0);
  EXPECT_EQ(context["mechanisms"]["memfd-map"]["mapping_page_size"], 4096);
  EXPECT_EQ(context["mechanisms"]["memfd-map-huge"]["mapping_page_size"], 2 * 1024 * 1024);
  EXPECT_EQ(context["mechanisms"]["ptrace"]["one_tracer_per_tracee"], true);
  EXPECT_EQ(cma["segments"], "yes");
  EXPECT_EQ(context["mechanisms"]["zerocopy"]["segments"].get<std::string>().rfind("no: ", 0), 0u);
  for (const Mechanism* m : all_mechanisms()) {
    const nlohmann::json& j = context["mechanisms"][std::string(m->id)];
    EXPECT_EQ(j["summary"], m->summary);
    EXPECT_EQ(j["permissions"], m->permissions);
    EXPECT_EQ(j["copies_note"], m->copies_note);
  }
  ASSERT_EQ(context["scenarios"].size(), 1u);
  const nlohmann::json& pingpong = context["scenarios"]["pingpong"];
  EXPECT_EQ(pingpong["primary_metric"], "one_way_ns");
  EXPECT_EQ(pingpong["iteration"], "one round trip");
  EXPECT_EQ(pingpong["name_keys"],
            nlohmann::json::array({"size", "ranks", "placement", "wait", "membind", "cache", "segments"}));
  EXPECT_EQ(pingpong["counters"]["one_way_ns"], "ns");
  EXPECT_EQ(pingpong["counters"]["bytes_per_second"], "B/s");
  EXPECT_EQ(pingpong["counters"]["samples"], "1");
  // Every counter once: plain ones under "counters", per-rank families and perf's under their own keys.
  EXPECT_EQ(pingpong["counters"].size() + pingpong["per_rank_counters"].size() + pingpong["optional_counters"].size(),
            find_scenario("pingpong")->counters.size());
  EXPECT_EQ(pingpong["counters"]["cpu_ns"], "ns");
  EXPECT_EQ(pingpong["per_rank_counters"]["cpu_sys_r{rank}_ns"], "ns");
  EXPECT_EQ(pingpong["optional_counters"]["cycles_r{rank}"], "1");
  EXPECT_EQ(pingpong["cpu_metric"], "cpu_ns");
}

TEST(Descriptors, ListCarriesTheSameTraits) {
  const nlohmann::ordered_json doc = list_document();
  ASSERT_EQ(doc["mechanisms"].size(), all_mechanisms().size());
  for (const auto& m : doc["mechanisms"]) {
    const nlohmann::ordered_json expected = mechanism_json(*find_mechanism(m["id"].get<std::string>()));
    for (const auto& [key, value] : expected.items()) EXPECT_EQ(m[key], value) << m["id"] << " " << key;
  }
  std::ostringstream text;  // `ipcatlas list`: only the mechanisms that move mappings say so
  print_list(text, doc);
  EXPECT_NE(text.str().find("nobody copies; moves 4K page mappings per message"), std::string::npos);
  EXPECT_NE(text.str().find("nobody copies; moves 2M page mappings per message"), std::string::npos);
  std::size_t said = 0;
  for (auto at = text.str().find("page mappings per message"); at != std::string::npos;
       at = text.str().find("page mappings per message", at + 1))
    ++said;
  EXPECT_EQ(said, 2u);
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
  const auto pingpong = run_with({{"one_way_ns", 1200},
                                  {"p50_ns", 1100},
                                  {"p99_ns", 2000},
                                  {"p999_ns", 3500},
                                  {"max_ns", 9e6},
                                  {"bytes_per_second", 1.23e9},
                                  {"samples", 300},
                                  {"cpu_ns", 2400},
                                  {"cpu_user_ns", 2000}});
  EXPECT_EQ(console_counters(pingpong, *find_scenario("pingpong")),
            "one-way 1.20 us (p50 1.10 us, p99 2.00 us, p99.9 3.50 us, max 9.00 ms)  1.23 GB/s (cpu 2.40 us/msg)");
  const auto alltoall = run_with({{"round_ns", 1e6},
                                  {"slowest_rank_ns", 9e5},
                                  {"fastest_rank_ns", 8e5},
                                  {"per_message_ns", 75000},
                                  {"bytes_per_second", 2e9}});
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
