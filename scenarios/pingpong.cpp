// pingpong: rank 0 sends SIZE bytes to rank 1, which sends SIZE bytes back.
// One Google Benchmark iteration is one round trip; one_way_ns is half of it,
// as in OSU, NetPIPE and ucx_perftest.
//
// How a batch of N round trips runs, on both ranks in lockstep:
//
//   warm-up x4 | timed x256 | check | resync | timed x256 | check | ... | check
//
//   timed   Rank 0 reads the clock at the start and end of each run of timed
//           round trips; nothing else happens between them. Each message
//           carries a fresh stamp (see payload.hpp) that the receiver checks.
//   check   An untimed round trip whose payload both receivers check byte by
//           byte. So every batch fully checks one message in 257.
//   resync  An untimed round trip after which rank 1 restarts its interval
//           clock, so that the time of a check never lands in a sample.
//
// The per-message distribution comes from rank 1, which reads the clock right
// after each of its sends. Two successive readings are one round trip apart.
// The reading happens while rank 1 would otherwise wait for the next ping.
// It is the time-stamp counter, scaled to ns against the monotonic clock over
// the batch (cpu_ticks(), harness/base/clock.hpp): at 40 ns one way, the
// 31 ns of a clock_gettime() there still delayed rank 1's next poll by about
// 4 ns per message (ci/small-message-probe, AMD EPYC).
#include <algorithm>
#include <cstring>
#include <vector>

#include "harness/base/clock.hpp"
#include "harness/base/error.hpp"
#include "harness/ranks/launcher.hpp"
#include "harness/machine/shared_memory.hpp"
#include "harness/base/stats.hpp"
#include "mechanisms/support/delaying_link.hpp"
#include "scenarios/support/channel.hpp"
#include "scenarios/support/cpu_meter.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {
namespace {

constexpr std::uint64_t kWarmupRoundTrips = 4;
constexpr std::uint64_t kCheckEvery = 256;
constexpr int kSetupValidationRoundTrips = 3;
constexpr std::size_t kMaxSamples = std::size_t{1} << 20;
constexpr std::uint64_t kSetupBatchBase = std::uint64_t{1} << 62;  // seeds for setup never collide with batches

// What the ranks hand back to the driver, in shared memory.
struct PingPongResults {
  std::uint64_t timed_ns;                     // rank 0: total time of the timed round trips
  std::uint64_t samples;                      // rank 1: intervals recorded
  RankCpu cpu[2];                             // each rank: its CPU over the measured loop
  double ns_per_tick;                         // rank 1: the scale of interval_ticks over the batch
  std::uint64_t interval_ticks[kMaxSamples];  // rank 1: one per timed round trip, up to kMaxSamples
};

// The round trips between the CPU meter's start and stop: the timed ones and
// the check (and resync) round trips between their runs of kCheckEvery.
std::uint64_t measured_round_trips(std::uint64_t timed) {
  const std::uint64_t runs = (timed + kCheckEvery - 1) / kCheckEvery;
  return timed + (runs > 0 ? 2 * runs - 1 : 0);
}

class PingPongRank final : public RankProgram {
 public:
  PingPongRank(int rank, Link& link, PingPongResults& results, const CellSpec& cell, std::uint64_t salt)
      : rank_(rank), link_(&link), results_(results), cell_(cell), salt_(salt) {}

  void setup(RankEnv& env) override {
    const int peer = 1 - rank_;
    if (corrupts_link(cell_.test.fault, rank_, peer, true)) {  // both ranks receive
      corrupting_ = std::make_unique<CorruptingLink>(*link_);
      link_ = corrupting_.get();
    }
    delaying_ = delaying_link_for(cell_.test.fault, *link_);  // both ranks, from the setup on
    if (delaying_) link_ = delaying_.get();
    channel_ = std::make_unique<PeerChannel>(*link_, rank_, peer, channel_buffers(cell_, rank_, 1), salt_);
    channel_->open(env.pid_of(peer));
    if (rank_ == 1) std::memset(results_.interval_ticks, 0, sizeof results_.interval_ticks);  // fault pages in now
    // Before any measurement: whole messages with a different body each time, fully checked.
    for (int i = 0; i < kSetupValidationRoundTrips; ++i) {
      channel_->begin_batch(kSetupBatchBase + static_cast<std::uint64_t>(i));
      round_trip(Check::full);
    }
  }

  void run_batch(RankEnv& env, const Batch& batch) override {
    inject_process_fault(cell_.test.fault, rank_, batch.index);
    if (corrupting_ && cell_.test.fault.due(batch.index)) corrupting_->arm();
    channel_->begin_batch(batch.index);
    env.barrier();

    for (std::uint64_t i = 0; i < kWarmupRoundTrips; ++i) round_trip(Check::stamp);
    meter_.start();
    tick_scale_.start();
    restart_interval_clock();
    std::uint64_t timed_ns = 0;
    samples_ = 0;
    for (std::uint64_t left = batch.iterations; left > 0;) {
      const std::uint64_t segment = std::min(left, kCheckEvery);
      const std::uint64_t start = now_ns();
      for (std::uint64_t i = 0; i < segment; ++i) round_trip(Check::stamp, Timing::timed);
      timed_ns += now_ns() - start;
      left -= segment;
      round_trip(Check::full);
      if (left > 0) {
        round_trip(Check::stamp);
        restart_interval_clock();
      }
    }
    if (rank_ == 0) results_.timed_ns = timed_ns;
    if (rank_ == 1) {
      results_.samples = samples_;
      results_.ns_per_tick = tick_scale_.stop();
    }
    results_.cpu[rank_] = meter_.stop(2 * measured_round_trips(batch.iterations));
  }

 private:
  enum class Timing { untimed, timed };

  // The channel computes each message's stamps while it waits (see
  // channel.hpp), so only loads and stores of stamp words lie between a
  // message's arrival and the reply.
  void round_trip(Check check, Timing timing = Timing::untimed) {
    if (rank_ == 0) {
      channel_->send();
      channel_->recv(check);
    } else {
      channel_->recv(check);
      channel_->send();
      if (timing == Timing::timed) record_interval();
    }
  }

  void restart_interval_clock() { last_send_tick_ = cpu_ticks(); }

  void record_interval() {
    const std::uint64_t now = cpu_ticks();
    if (samples_ < kMaxSamples) results_.interval_ticks[samples_++] = now - last_send_tick_;
    last_send_tick_ = now;
  }

  int rank_;
  Link* link_;
  std::unique_ptr<CorruptingLink> corrupting_;  // --inject-fault corrupt
  std::unique_ptr<DelayingLink> delaying_;      // --inject-fault delay:NS
  PingPongResults& results_;
  const CellSpec& cell_;
  std::uint64_t salt_;
  std::unique_ptr<PeerChannel> channel_;
  std::uint64_t last_send_tick_ = 0, samples_ = 0;
  TickScale tick_scale_;
  CpuMeter meter_;
};

class PingPongSession final : public ScenarioSession {
 public:
  PingPongSession(const Topology& topology, const CellSpec& cell)
      : cell_(cell),
        results_memory_(sizeof(PingPongResults)),
        results_(results_memory_.as<PingPongResults>()),
        // The link's shared memory goes with rank 0's memory.
        link_(cell.mechanism->make_link(
            LinkConfig{cell.size, cell.wait, node_for_pu(cell.membind, cell.cpus.at(0)), cell.segments})),
        salt_(now_ns()) {
    if (cell_.cpus.size() != 2) throw UsageError("pingpong needs exactly 2 ranks");
    group_ = std::make_unique<RankGroup>(topology, GroupPlan{cell_.cpus, cell_.wait, cell_.watchdog_seconds},
                                         [this](int rank) -> std::unique_ptr<RankProgram> {
                                           return std::make_unique<PingPongRank>(rank, *link_, *results_, cell_, salt_);
                                         });
  }

  Measurement run_batch(std::uint64_t iterations) override {
    const double expected_seconds = last_seconds_per_iteration_ * static_cast<double>(iterations);
    group_->run(Batch{batches_++, iterations}, expected_seconds);

    const double round_trip_ns = static_cast<double>(results_->timed_ns) / static_cast<double>(iterations);
    last_seconds_per_iteration_ = round_trip_ns * 1e-9;
    Measurement m;
    m.seconds_per_iteration = round_trip_ns * 1e-9;
    const double one_way_ns = round_trip_ns / 2;
    m.counters["one_way_ns"] = one_way_ns;
    m.counters["bytes_per_second"] = one_way_ns > 0 ? static_cast<double>(cell_.size) / (one_way_ns * 1e-9) : 0;

    std::vector<double> one_way(results_->samples);
    for (std::size_t i = 0; i < one_way.size(); ++i)
      one_way[i] = static_cast<double>(results_->interval_ticks[i]) * results_->ns_per_tick / 2;
    m.counters["samples"] = static_cast<double>(one_way.size());
    if (!one_way.empty()) {
      const Percentiles p = percentiles(one_way);
      m.counters["p50_ns"] = p.p50;
      m.counters["p99_ns"] = p.p99;
      m.counters["p999_ns"] = p.p999;
      m.counters["max_ns"] = p.max;
      m.counters["samples_mean_ns"] = p.mean;
    }
    add_cpu_counters(m, results_->cpu);
    return m;
  }

 private:
  CellSpec cell_;
  SharedMapping results_memory_;
  PingPongResults* results_;
  std::unique_ptr<Link> link_;
  std::uint64_t salt_;
  std::unique_ptr<RankGroup> group_;
  std::uint64_t batches_ = 0;
  double last_seconds_per_iteration_ = 0;
};

constexpr Counter kPingPongOwnCounters[] = {
    {"one_way_ns", "ns", "half the mean round trip (rank 0's clock), as OSU, NetPIPE and ucx_perftest", "one-way {}"},
    {"p50_ns", "ns", "median per-message one-way time (rank 1's clock, off the critical path)", "p50 {}", true},
    {"p99_ns", "ns", "99th percentile of the per-message one-way times", "p99 {}", true},
    {"p999_ns", "ns", "99.9th percentile of the per-message one-way times", "p99.9 {}", true},
    {"max_ns", "ns", "the slowest per-message one-way time", "max {}", true},
    {"bytes_per_second", "B/s", "SIZE / one_way_ns", "{}"},
    {"samples", "1", "per-message times recorded: every timed round trip, up to 2^20"},
    {"samples_mean_ns", "ns", "the mean of the per-message times (agrees with one_way_ns)"},
};
constexpr auto kPingPongCounters = with_cpu_counters(kPingPongOwnCounters);

}  // namespace

extern const Scenario kPingPongScenario{
    .id = "pingpong",
    .summary = "rank 0 sends SIZE bytes to rank 1, which sends them back; latency and bandwidth of one message",
    .iteration = "one round trip",
    .name_keys = kCommonNameKeys,
    .counters = kPingPongCounters,
    .primary_metric = "one_way_ns",
    .sends_to = Peers::one,
    .receives_from = Peers::one,
    .ranks = 2,
    .min_ranks = 2,
    .max_ranks = 2,
    .start = [](const Topology& topology, const CellSpec& cell) -> std::unique_ptr<ScenarioSession> {
      return std::make_unique<PingPongSession>(topology, cell);
    },
};

}  // namespace ipcatlas
