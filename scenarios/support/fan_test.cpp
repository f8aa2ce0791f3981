// manytoone and onetomany.
#include <gtest/gtest.h>

#include "scenarios/scenario_test_support.hpp"

namespace ipcatlas {
namespace {

using testing::cell;
using testing::start;

TEST(Fan, ManyToOneAndOneToManyWithFourAndEightRanksCompleteValidated) {
  for (const char* scenario : {"manytoone", "onetomany"}) {
    for (int ranks : {4, 8}) {
      for (const char* mechanism : {"shm", "cma-read", "cma-write", "procmem-read", "procmem-write", "vmsplice"}) {
        auto session = start(scenario, cell(mechanism, 65537, ranks));
        const Measurement m = session->run_batch(5);
        const auto& k = m.counters;
        EXPECT_GT(k.at("round_ns"), 0) << scenario << " " << mechanism << " " << ranks;
        EXPECT_DOUBLE_EQ(k.at("bytes_per_second"), (ranks - 1) * 65537.0 / (k.at("round_ns") * 1e-9));
        EXPECT_LE(k.at("root_ns"), k.at("round_ns") * 1.0001);
      }
    }
  }
}

TEST(Fan, PtraceServesManyToOne) {
  auto session = start("manytoone", cell("ptrace", 4096, 4));
  EXPECT_GT(session->run_batch(3).counters.at("round_ns"), 0);
}

TEST(Fan, CorruptionAndHangsAreCaught) {
  CellSpec corrupt = cell("cma-write", 256, 4);
  corrupt.test.fault.kind = FaultPlan::Kind::corrupt;
  corrupt.test.fault.rank = 0;  // the root receives from everyone in manytoone
  EXPECT_NE(testing::failure_of("manytoone", corrupt).find("first bad byte at offset 128"), std::string::npos);
  CellSpec hang = cell("shm", 256, 4);
  hang.test.fault.kind = FaultPlan::Kind::hang;
  hang.watchdog_seconds = 1;
  EXPECT_NE(testing::failure_of("onetomany", hang).find("hung"), std::string::npos);
}

}  // namespace
}  // namespace ipcatlas
