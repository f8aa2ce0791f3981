// The rule that keeps one-tracer-per-tracee mechanisms out of the patterns
// they cannot serve, from the scenario descriptors.
#include <gtest/gtest.h>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

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
