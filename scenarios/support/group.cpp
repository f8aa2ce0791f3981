#include "scenarios/support/group.hpp"

#include <algorithm>
#include <map>

#include "harness/base/clock.hpp"
#include "harness/base/error.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/machine/memory_binding.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/support/delaying_link.hpp"

namespace ipcatlas {
namespace {

constexpr int kValidationRounds = 2;
constexpr std::uint64_t kSetupBatchBase = std::uint64_t{1} << 62;  // seeds of the validation rounds

// The links `rank` is an end of.
int channel_count(const std::map<std::pair<int, int>, std::unique_ptr<Link>>& links, int rank) {
  return static_cast<int>(std::count_if(links.begin(), links.end(), [rank](const auto& entry) {
    return entry.first.first == rank || entry.first.second == rank;
  }));
}

class GroupRank final : public RankProgram {
 public:
  GroupRank(int rank, const CellSpec& cell, const Pattern& pattern,
            std::map<std::pair<int, int>, std::unique_ptr<Link>>& links, RankTimes* times, std::uint64_t salt)
      : rank_(rank), cell_(cell), pattern_(pattern), times_(times) {
    by_peer_.assign(static_cast<std::size_t>(cell.cpus.size()), nullptr);
    const int ranks = static_cast<int>(cell.cpus.size());
    const bool faulty_rank_receives = pattern.receives_payload(cell.test.fault.rank, ranks);
    const ChannelBuffers buffers = channel_buffers(cell, rank, channel_count(links, rank));
    for (auto& [pair, link] : links) {
      if (pair.first != rank && pair.second != rank) continue;
      const int peer = pair.first == rank ? pair.second : pair.first;
      Link* used = link.get();
      if (corrupts_link(cell.test.fault, rank, peer, faulty_rank_receives)) {
        corrupting_.push_back(std::make_unique<CorruptingLink>(*link));
        used = corrupting_.back().get();
      }
      if (auto delaying = delaying_link_for(cell.test.fault, *used)) {  // every rank, from the setup on
        delaying_.push_back(std::move(delaying));
        used = delaying_.back().get();
      }
      channels_.push_back(std::make_unique<PeerChannel>(*used, rank, peer, buffers, salt));
      by_peer_[static_cast<std::size_t>(peer)] = channels_.back().get();
    }
  }

  void setup(RankEnv& env) override {
    for (auto& channel : channels_) channel->open(env.pid_of(channel->peer()));
    for (int i = 0; i < kValidationRounds; ++i) {
      begin_batch(kSetupBatchBase + static_cast<std::uint64_t>(i));
      one_round(env, Check::full);
    }
  }

  void run_batch(RankEnv& env, const Batch& batch) override {
    inject_process_fault(cell_.test.fault, rank_, batch.index);
    if (cell_.test.fault.due(batch.index))
      for (auto& link : corrupting_) link->arm();
    begin_batch(batch.index);
    env.barrier();
    one_round(env, Check::stamp);  // warm-up
    RankTimes t{0, 0, {}};
    meter_.start();
    const std::uint64_t start = now_ns();
    for (std::uint64_t r = 0; r < batch.iterations; ++r) t.busy_ns += one_round(env, Check::stamp);
    t.total_ns = now_ns() - start;
    t.cpu = meter_.stop(batch.iterations * pattern_.messages_per_round(static_cast<int>(by_peer_.size())));
    one_round(env, Check::full);
    times_[rank_] = t;
  }

 private:
  void begin_batch(std::uint64_t batch) {
    for (auto& channel : channels_) channel->begin_batch(batch);
  }

  // Returns the time until this rank's transfers were done.
  std::uint64_t one_round(RankEnv& env, Check check) {
    const std::uint64_t start = now_ns();
    pattern_.round(rank_, static_cast<int>(by_peer_.size()), by_peer_, check);
    const std::uint64_t busy = now_ns() - start;
    if (pattern_.barrier_ends_round()) env.barrier();
    return busy;
  }

  int rank_;
  const CellSpec& cell_;
  const Pattern& pattern_;
  RankTimes* times_;
  std::vector<std::unique_ptr<CorruptingLink>> corrupting_;  // --inject-fault corrupt
  std::vector<std::unique_ptr<DelayingLink>> delaying_;      // --inject-fault delay:NS
  std::vector<std::unique_ptr<PeerChannel>> channels_;
  std::vector<PeerChannel*> by_peer_;
  CpuMeter meter_;
};

class GroupSession final : public ScenarioSession {
 public:
  GroupSession(const Topology& topology, const CellSpec& cell, std::unique_ptr<Pattern> pattern)
      : cell_(cell), pattern_(std::move(pattern)), times_memory_(sizeof(RankTimes) * kMaxRanks), salt_(now_ns()) {
    const int ranks = static_cast<int>(cell_.cpus.size());
    for (const auto& pair : pattern_->pairs(ranks)) {
      // A link's shared memory lives with its lower rank's memory.
      const int node = node_for_pu(cell_.membind, cell_.cpus[static_cast<std::size_t>(pair.first)]);
      links_[pair] = cell_.mechanism->make_link(LinkConfig{cell_.size, cell_.wait, node, cell_.segments});
    }
    RankTimes* times = times_memory_.as<RankTimes>();
    group_ =
        std::make_unique<RankGroup>(topology, GroupPlan{cell_.cpus, cell_.wait, cell_.watchdog_seconds},
                                    [this, times](int rank) -> std::unique_ptr<RankProgram> {
                                      return std::make_unique<GroupRank>(rank, cell_, *pattern_, links_, times, salt_);
                                    });
  }

  Measurement run_batch(std::uint64_t iterations) override {
    const double expected = last_seconds_per_round_ * static_cast<double>(iterations);
    group_->run(Batch{batches_++, iterations}, expected);
    const std::span<const RankTimes> times(times_memory_.as<RankTimes>(), cell_.cpus.size());
    Measurement m = pattern_->measure(cell_, times, iterations);
    std::vector<RankCpu> cpu;
    for (const RankTimes& t : times) cpu.push_back(t.cpu);
    add_cpu_counters(m, cpu);
    last_seconds_per_round_ = m.seconds_per_iteration;
    return m;
  }

 private:
  CellSpec cell_;
  std::unique_ptr<Pattern> pattern_;
  std::map<std::pair<int, int>, std::unique_ptr<Link>> links_;
  SharedMapping times_memory_;
  std::uint64_t salt_;
  std::unique_ptr<RankGroup> group_;
  std::uint64_t batches_ = 0;
  double last_seconds_per_round_ = 0;
};

}  // namespace

std::unique_ptr<ScenarioSession> start_group_session(const Topology& topology, const CellSpec& cell,
                                                     std::unique_ptr<Pattern> pattern) {
  return std::make_unique<GroupSession>(topology, cell, std::move(pattern));
}

double max_total_ns(std::span<const RankTimes> times) {
  std::uint64_t m = 0;
  for (const RankTimes& t : times) m = std::max(m, t.total_ns);
  return static_cast<double>(m);
}

double max_busy_ns(std::span<const RankTimes> times) {
  std::uint64_t m = 0;
  for (const RankTimes& t : times) m = std::max(m, t.busy_ns);
  return static_cast<double>(m);
}

double min_busy_ns(std::span<const RankTimes> times) {
  std::uint64_t m = ~std::uint64_t{0};
  for (const RankTimes& t : times) m = std::min(m, t.busy_ns);
  return static_cast<double>(m);
}

}  // namespace ipcatlas
