// The scenario descriptors: what they declare agrees with what the scenarios
// measure, and the rule that keeps one-tracer-per-tracee mechanisms out of
// the patterns they cannot serve.
#include <gtest/gtest.h>

#include <set>

#include "scenarios/scenario_test_support.hpp"
#include "scenarios/support/cpu_meter.hpp"

namespace ipcatlas {
namespace {

TEST(ScenarioDescriptor, CountersHaveKnownUnitsAndThePrimaryMetricIsATime) {
  const std::set<std::string_view> units = {"ns", "B/s", "1/s", "1"};
  for (const Scenario* s : all_scenarios()) {
    SCOPED_TRACE(s->id);
    std::set<std::string_view> names;
    for (const Counter& c : s->counters) {
      EXPECT_TRUE(units.count(c.unit)) << c.name << ": unit '" << c.unit << "'";
      EXPECT_FALSE(c.what.empty()) << c.name;
      EXPECT_TRUE(c.console.empty() || c.console.find("{}") != std::string_view::npos) << c.name;
      EXPECT_TRUE(names.insert(c.name).second) << c.name << " twice";
    }
    const Counter* primary = find_counter(*s, s->primary_metric);
    ASSERT_NE(primary, nullptr) << s->primary_metric;
    EXPECT_EQ(primary->unit, "ns");
    ASSERT_GE(s->name_keys.size(), 2u);
    EXPECT_EQ(s->name_keys[0], "size");
    EXPECT_EQ(s->name_keys[1], "ranks");
  }
}

// The table is the truth for the console, `list` and the analysis: a
// counter measured but not declared (or declared but never measured) fails.
// A per-rank family stands for one counter per rank; optional counters
// (perf) are measured exactly where the kernel lets a rank count.
TEST(ScenarioDescriptor, DeclaresExactlyTheCountersItMeasures) {
  std::string why;
  const bool perf = PerfCounterGroup::open(kRankEvents, why) != nullptr;
  for (const Scenario* s : all_scenarios()) {
    SCOPED_TRACE(s->id);
    const CellSpec c = testing::cell("shm", 64, s->ranks);
    const Measurement m = testing::start(std::string(s->id).c_str(), c)->run_batch(4);
    std::set<std::string> measured, declared;
    for (const auto& [name, value] : m.counters) measured.insert(name);
    for (const Counter& counter : s->counters) {
      EXPECT_EQ(counter.per_rank, counter.name.find("{rank}") != std::string_view::npos) << counter.name;
      if (counter.optional && !perf) continue;
      for (int rank = 0; rank < (counter.per_rank ? s->ranks : 1); ++rank)
        declared.insert(rank_counter_name(counter.name, rank));
    }
    EXPECT_EQ(measured, declared);
  }
}

TEST(MechanismCannotServe, OneTracerPerTraceeKeepsPtraceOutOfPatternsWithSeveralReaders) {
  const Mechanism& ptrace = *find_mechanism("ptrace");
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("pingpong"), ptrace, 2), "");
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("stream"), ptrace, 2), "");
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("manytoone"), ptrace, 8), "");  // one tracer, many tracees
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("onetomany"), ptrace, 2), "");  // a single receiver
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("alltoall"), ptrace, 4),
            "ptrace allows one tracer per tracee, and in alltoall a sender is read by several receivers (only "
            "pingpong, stream and manytoone can be served)");
  EXPECT_NE(mechanism_cannot_serve(*find_scenario("onetomany"), ptrace, 4).find("one tracer per tracee"),
            std::string::npos);
}

TEST(MechanismCannotServe, APushingOneTracerMechanismWouldBeKeptOutOfIncast) {
  Mechanism push = *find_mechanism("ptrace");
  push.id = "ptrace-push";
  push.moves = Moves::push;
  EXPECT_EQ(mechanism_cannot_serve(*find_scenario("onetomany"), push, 4), "");
  EXPECT_NE(mechanism_cannot_serve(*find_scenario("manytoone"), push, 4).find("a receiver is written by several"),
            std::string::npos);
}

TEST(MechanismCannotServe, EveryOtherMechanismServesEveryScenario) {
  for (const Mechanism* m : all_mechanisms()) {
    if (m->one_tracer_per_tracee) continue;
    for (const Scenario* s : all_scenarios()) EXPECT_EQ(mechanism_cannot_serve(*s, *m, 8), "") << m->id;
  }
}

}  // namespace
}  // namespace ipcatlas
