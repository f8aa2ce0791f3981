// The run order: blocks hold every mechanism of one cell once, in a fresh
// random order each repetition; every (cell, repetition) runs exactly once;
// a seed replays the order.
#include "harness/app/run_order.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

// Three sizes x three mechanisms, in matrix order (mechanism-major, as build_matrix makes them).
const std::vector<std::string> kKeys = {"size:1",  "size:64", "size:4K", "size:1", "size:64",
                                        "size:4K", "size:1",  "size:64", "size:4K"};

std::set<std::pair<std::size_t, int>> runs_of(const std::vector<ScheduledRun>& runs) {
  std::set<std::pair<std::size_t, int>> seen;
  for (const ScheduledRun& r : runs) seen.insert({r.cell, r.repetition});
  return seen;
}

TEST(RunOrder, EveryCellRunsOncePerRepetitionInEveryOrder) {
  for (RunOrder order : {RunOrder::blocked, RunOrder::interleaved, RunOrder::sequential}) {
    const std::vector<ScheduledRun> runs = schedule_runs(kKeys, 4, order, 7);
    EXPECT_EQ(runs.size(), 36u) << to_string(order);
    EXPECT_EQ(runs_of(runs).size(), 36u) << to_string(order);
  }
}

TEST(RunOrder, ABlockHoldsTheMechanismsOfOneCellInAFreshOrder) {
  const std::vector<ScheduledRun> runs = schedule_runs(kKeys, 5, RunOrder::blocked, 11);
  std::map<int, std::vector<std::size_t>> blocks;
  for (const ScheduledRun& r : runs) blocks[r.block].push_back(r.cell);
  ASSERT_EQ(blocks.size(), 15u) << "3 cells x 5 repetitions";
  std::set<std::vector<std::size_t>> orders_of_size_1;
  for (const auto& [block, cells] : blocks) {
    ASSERT_EQ(cells.size(), 3u);
    std::set<std::string> keys;
    for (std::size_t c : cells) keys.insert(kKeys[c]);
    EXPECT_EQ(keys.size(), 1u) << "a block is one cell but the mechanism";
    if (kKeys[cells[0]] == "size:1") orders_of_size_1.insert(cells);
  }
  EXPECT_GT(orders_of_size_1.size(), 1u) << "the mechanisms' order is drawn again for each repetition";
  // Blocks run one after the other, positions 0, 1, 2 within each.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].block, static_cast<int>(i / 3));
    EXPECT_EQ(runs[i].position, static_cast<int>(i % 3));
  }
}

TEST(RunOrder, TheSeedReplaysTheOrder) {
  const auto a = schedule_runs(kKeys, 3, RunOrder::interleaved, 42);
  const auto b = schedule_runs(kKeys, 3, RunOrder::interleaved, 42);
  const auto c = schedule_runs(kKeys, 3, RunOrder::interleaved, 43);
  const auto cells = [](const std::vector<ScheduledRun>& runs) {
    std::vector<std::size_t> out;
    for (const ScheduledRun& r : runs) out.push_back(r.cell);
    return out;
  };
  EXPECT_EQ(cells(a), cells(b));
  EXPECT_NE(cells(a), cells(c));
}

TEST(RunOrder, SequentialIsEachBenchmarksRepetitionsBackToBack) {
  const auto runs = schedule_runs({"a", "b"}, 2, RunOrder::sequential, 1);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].cell, 0u);
  EXPECT_EQ(runs[1].cell, 0u);
  EXPECT_EQ(runs[1].repetition, 1);
  EXPECT_EQ(runs[2].cell, 1u);
  EXPECT_THROW(parse_run_order("random"), UsageError);
}

}  // namespace
}  // namespace ipcatlas
