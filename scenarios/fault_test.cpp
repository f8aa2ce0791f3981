// Every fault of --inject-fault acts in every scenario: each scenario x fault
// fails its benchmark with an error that names what happened. manytoone is the
// case that once passed silently: its faulty rank (1) only sends, so corrupt
// must flip the bytes it sends. delay:NS fails nothing: every scenario slows
// down by at least NS a message and still checks every byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

struct ScenarioCase {
  const char* scenario;
  int ranks;
  bool bidirectional = false;
};

constexpr ScenarioCase kScenarios[] = {
    {"pingpong", 2}, {"stream", 2}, {"stream", 2, true}, {"alltoall", 3}, {"manytoone", 3}, {"onetomany", 3},
};

struct FaultCase {
  FaultPlan::Kind kind;
  const char* name;
  const char* message_has;
};

constexpr FaultCase kFaults[] = {
    {FaultPlan::Kind::corrupt, "corrupt", "payload mismatch"},
    {FaultPlan::Kind::kill, "kill", "was killed by signal 9 (SIGKILL)"},
    {FaultPlan::Kind::hang, "hang", "hung: no progress after"},
};

TEST(Faults, EveryFaultFailsEveryScenarioNamingWhatHappened) {
  for (const ScenarioCase& s : kScenarios) {
    for (const FaultCase& f : kFaults) {
      SCOPED_TRACE(std::string(s.scenario) + (s.bidirectional ? " --bidirectional" : "") + " --inject-fault " + f.name);
      CellSpec c = testing::cell("shm", 64, s.ranks);
      c.stream.bidirectional = s.bidirectional;
      c.stream.window = 4;
      c.test.fault.kind = f.kind;
      c.watchdog_seconds = 0.5;  // the hang's cost
      const std::string message = testing::failure_of(s.scenario, c);
      EXPECT_NE(message.find(f.message_has), std::string::npos) << message;
      EXPECT_NE(message.find("rank 1"), std::string::npos) << "the faulty rank is rank 1: " << message;
    }
  }
}

// The faulty rank only sends in manytoone: what it sends arrives corrupted.
TEST(Faults, InManyToOneTheFaultySendersMessagesArriveCorrupted) {
  CellSpec c = testing::cell("shm", 64, 3);
  c.test.fault.kind = FaultPlan::Kind::corrupt;
  const std::string message = testing::failure_of("manytoone", c);
  EXPECT_NE(message.find("(rank 1 -> rank 0, 64 bytes): first bad byte at offset 32"), std::string::npos) << message;
}

// The time per message that each sending rank spends in series, from a
// scenario's counters: pingpong's one way (one send), a stream window's share
// of each message (each rank sends them in turn), alltoall's per message
// (each exchange is a send then a reply), manytoone's round (each sender
// sends once), onetomany's round shared by the messages the root sends.
double sender_ns_per_message(const ScenarioCase& s, const CellSpec& c, const Measurement& m) {
  const std::string scenario = s.scenario;
  if (scenario == "pingpong") return m.counters.at("one_way_ns");
  if (scenario == "stream") return m.counters.at("window_ns") / c.stream.window;
  if (scenario == "alltoall") return m.counters.at("per_message_ns");
  if (scenario == "manytoone") return m.counters.at("round_ns");
  return m.counters.at("round_ns") / (s.ranks - 1);  // onetomany
}

struct DelayedPath {
  const char* mechanism;
  std::size_t segments;
};

// Plain sends, zerocopy's send_stamped, cma-read's split-phase sends
// (onetomany), and the scatter/gather forms.
constexpr DelayedPath kDelayedPaths[] = {{"shm", 1}, {"zerocopy", 1}, {"cma-read", 1}, {"shm", 4}, {"cma-read", 4}};

TEST(Faults, DelaySlowsEveryScenarioByAtLeastItsDelayAndFailsNothing) {
  constexpr std::uint64_t kDelayNs = 2000;
  for (const DelayedPath& path : kDelayedPaths) {
    if (!find_mechanism(path.mechanism)->probe().available) continue;  // as the other scenario tests
    for (const ScenarioCase& s : kScenarios) {
      SCOPED_TRACE(std::string(s.scenario) + (s.bidirectional ? " --bidirectional" : "") + " " + path.mechanism +
                   " segments:" + std::to_string(path.segments));
      CellSpec c = testing::cell(path.mechanism, 64, s.ranks);
      c.segments = path.segments;
      c.stream.bidirectional = s.bidirectional;
      c.stream.window = 4;
      c.test.fault = parse_fault("delay:" + std::to_string(kDelayNs));
      const Scenario& scenario = *find_scenario(s.scenario);
      if (scenario.cannot_run && !scenario.cannot_run(c).empty()) continue;  // cma-read both ways: a run skips it
      auto session = testing::start(s.scenario, c);
      for (int batch = 0; batch < 3; ++batch) {       // batch 0, the calibration, pays it too
        const Measurement m = session->run_batch(5);  // throws RankFailure on a byte out of place
        EXPECT_GE(sender_ns_per_message(s, c, m), kDelayNs) << "batch " << batch;
      }
    }
  }
}

}  // namespace
}  // namespace ipcatlas
