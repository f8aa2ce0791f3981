// --segments N through the real scenarios: every mechanism that honours
// scatter/gather carries segmented messages, checked byte by byte, through
// PeerChannel in pingpong and in the split-phase fan scenarios; what cannot
// run says why.
#include <gtest/gtest.h>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

using testing::cell;
using testing::failure_of;
using testing::start;

CellSpec segmented(const char* mechanism, std::size_t size, std::size_t segments, int ranks = 2) {
  CellSpec c = cell(mechanism, size, ranks);
  c.segments = segments;
  return c;
}

TEST(Segments, EveryMechanismThatHonoursThemCarriesThemInPingPong) {
  for (const Mechanism* m : all_mechanisms()) {
    if (!m->probe().available || !m->segments_refusal.empty()) continue;
    for (auto [size, segments] : {std::pair<std::size_t, std::size_t>{33, 4}, {70000, 16}}) {
      if (m->default_size_cap > 0) size = std::min(size, std::size_t{4096});  // ptrace: 8 bytes a system call
      const CellSpec c = segmented(std::string(m->id).c_str(), size, segments);
      ASSERT_EQ(segments_cannot_run(*m, c), "") << m->id;
      auto session = start("pingpong", c);
      // Setup checks three round trips in full, and every batch ends with a full check.
      EXPECT_GT(session->run_batch(20).counters.at("one_way_ns"), 0) << m->id << " " << size << " in " << segments;
    }
  }
}

TEST(Segments, SplitPhaseScenariosCarryThem) {
  for (const char* mechanism : {"cma-read", "cma-write", "shm"}) {
    if (!find_mechanism(mechanism)->probe().available) continue;
    for (const char* scenario : {"manytoone", "onetomany", "stream"}) {
      const int ranks = std::string(scenario) == "stream" ? 2 : 3;
      EXPECT_EQ(failure_of(scenario, segmented(mechanism, 4096, 8, ranks)), "") << mechanism << " " << scenario;
    }
  }
}

TEST(Segments, ACorruptedSegmentIsNamed) {
  CellSpec c = segmented("pipe", 4096, 8);
  c.test.fault.kind = FaultPlan::Kind::corrupt;
  const std::string message = failure_of("pingpong", c);
  EXPECT_NE(message.find("payload mismatch in message"), std::string::npos) << message;
  EXPECT_NE(message.find("(in segment 4 of 8)"), std::string::npos) << message;
}

TEST(Segments, WhatCannotRunSaysWhy) {
  const Mechanism& zerocopy = *find_mechanism("zerocopy");
  EXPECT_NE(segments_cannot_run(zerocopy, segmented("zerocopy", 4096, 4)).find("zerocopy cannot move scatter/gather"),
            std::string::npos);
  EXPECT_EQ(segments_cannot_run(zerocopy, segmented("zerocopy", 4096, 1)), "");
  EXPECT_EQ(segments_cannot_run(*find_mechanism("shm"), segmented("shm", 3, 4)),
            "3 bytes cannot make 4 segments (at least one byte each)");
}

}  // namespace
}  // namespace ipcatlas
