// Every fault of --inject-fault acts in every scenario: each scenario x fault
// fails its benchmark with an error that names what happened. manytoone is the
// case that once passed silently: its faulty rank (1) only sends, so corrupt
// must flip the bytes it sends.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ipcatlas
