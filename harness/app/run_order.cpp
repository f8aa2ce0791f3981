#include "harness/app/run_order.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

// The cells of each block, blocks in the order their first cell appears.
std::vector<std::vector<std::size_t>> group_into_blocks(const std::vector<std::string>& block_keys) {
  std::vector<std::vector<std::size_t>> blocks;
  std::map<std::string, std::size_t> index_of;
  for (std::size_t cell = 0; cell < block_keys.size(); ++cell) {
    const auto [it, inserted] = index_of.emplace(block_keys[cell], blocks.size());
    if (inserted) blocks.emplace_back();
    blocks[it->second].push_back(cell);
  }
  return blocks;
}

std::vector<ScheduledRun> blocked(const std::vector<std::string>& block_keys, int repetitions, std::mt19937_64& rng) {
  const std::vector<std::vector<std::size_t>> blocks = group_into_blocks(block_keys);
  std::vector<ScheduledRun> runs;
  int block = 0;
  for (int r = 0; r < repetitions; ++r)
    for (std::vector<std::size_t> cells : blocks) {
      std::shuffle(cells.begin(), cells.end(), rng);
      for (std::size_t i = 0; i < cells.size(); ++i) runs.push_back({cells[i], r, block, static_cast<int>(i)});
      ++block;
    }
  return runs;
}

std::vector<ScheduledRun> one_run_per_block(std::size_t cells, int repetitions) {
  std::vector<ScheduledRun> runs;
  for (std::size_t cell = 0; cell < cells; ++cell)
    for (int r = 0; r < repetitions; ++r) runs.push_back({cell, r, 0, 0});
  return runs;
}

}  // namespace

RunOrder parse_run_order(std::string_view text) {
  if (text == "blocked") return RunOrder::blocked;
  if (text == "interleaved") return RunOrder::interleaved;
  if (text == "sequential") return RunOrder::sequential;
  throw UsageError("invalid --order '" + std::string(text) + "' (expected blocked, interleaved or sequential)");
}

const char* to_string(RunOrder order) {
  switch (order) {
    case RunOrder::blocked: return "blocked";
    case RunOrder::interleaved: return "interleaved";
    case RunOrder::sequential: return "sequential";
  }
  return "?";
}

std::vector<ScheduledRun> schedule_runs(const std::vector<std::string>& block_keys, int repetitions, RunOrder order,
                                        std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  if (order == RunOrder::blocked) return blocked(block_keys, repetitions, rng);
  std::vector<ScheduledRun> runs = one_run_per_block(block_keys.size(), repetitions);
  if (order == RunOrder::interleaved) std::shuffle(runs.begin(), runs.end(), rng);
  for (std::size_t i = 0; i < runs.size(); ++i) runs[i].block = static_cast<int>(i);
  return runs;
}

}  // namespace ipcatlas
