#include <gtest/gtest.h>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

using testing::cell;
using testing::start;

TEST(Stream, UnidirectionalWindowsForEveryMechanism) {
  for (const Mechanism* m : all_mechanisms()) {
    if (!m->probe().available) continue;
    CellSpec c = cell(std::string(m->id).c_str(), 3000, 2);
    c.stream.window = 8;
    const Measurement r = start("stream", c)->run_batch(4);
    EXPECT_GT(r.counters.at("window_ns"), 0) << m->id;
    EXPECT_DOUBLE_EQ(r.counters.at("bytes_per_second"), 8 * 3000.0 / (r.counters.at("window_ns") * 1e-9)) << m->id;
    EXPECT_DOUBLE_EQ(r.counters.at("messages_per_second"), 8 / (r.counters.at("window_ns") * 1e-9)) << m->id;
  }
}

TEST(Stream, BothWaysWithinTheBufferedLimit) {
  for (const char* mechanism : {"shm", "zerocopy", "pipe", "unix-stream", "unix-seqpacket"}) {
    CellSpec c = cell(mechanism, 4096, 2);
    c.stream.bidirectional = true;
    c.stream.window = 16;
    ASSERT_EQ(find_scenario("stream")->cannot_run(c), "") << mechanism;
    const Measurement r = start("stream", c)->run_batch(4);
    EXPECT_DOUBLE_EQ(r.counters.at("bytes_per_second"), 2 * 16 * 4096.0 / (r.counters.at("window_ns") * 1e-9));
  }
}

TEST(Stream, BothWaysIsRefusedWhereItWouldDeadlock) {
  CellSpec rendezvous = cell("cma-read", 64, 2);
  rendezvous.stream.bidirectional = true;
  EXPECT_NE(find_scenario("stream")->cannot_run(rendezvous).find("its send() waits for the receiver"),
            std::string::npos);
  CellSpec too_big = cell("shm", std::size_t{4} << 20, 2);
  too_big.stream.bidirectional = true;
  EXPECT_NE(find_scenario("stream")->cannot_run(too_big).find("only up to 512K"), std::string::npos);
  too_big.stream.bidirectional = false;
  EXPECT_EQ(find_scenario("stream")->cannot_run(too_big), "");
}

}  // namespace
}  // namespace ipcatlas
