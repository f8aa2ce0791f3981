// alltoall: in every round each of N ranks sends SIZE bytes to every other
// rank and receives SIZE bytes from each; a barrier ends the round.
//
// The schedule cannot deadlock whatever a mechanism's send() waits for: the
// N-1 steps of a round are perfect matchings (the circle method of round-
// robin tournaments; with N odd, one rank sits out each step), and in each
// pair the lower rank sends then receives while the higher one receives then
// sends.
#include "scenarios/alltoall.hpp"

#include "harness/ranks/launcher.hpp"
#include "scenarios/support/group.hpp"

namespace ipcatlas {

std::vector<int> pairwise_partners(int me, int ranks) {
  const int n = ranks % 2 == 0 ? ranks : ranks + 1;  // a phantom rank makes N even
  std::vector<int> partners;
  for (int step = 0; step < n - 1; ++step) {
    int partner;
    if (me == n - 1) {
      partner = step;
    } else if (me == step) {
      partner = n - 1;
    } else {
      partner = ((2 * step - me) % (n - 1) + (n - 1)) % (n - 1);
    }
    partners.push_back(partner < ranks ? partner : -1);
  }
  return partners;
}

namespace {

class AlltoallPattern final : public Pattern {
 public:
  // The schedule is computed once: allocating it every round would be timed.
  explicit AlltoallPattern(int ranks) {
    for (int me = 0; me < ranks; ++me) partners_.push_back(pairwise_partners(me, ranks));
  }

  std::vector<std::pair<int, int>> pairs(int ranks) const override {
    std::vector<std::pair<int, int>> all;
    for (int a = 0; a < ranks; ++a)
      for (int b = a + 1; b < ranks; ++b) all.emplace_back(a, b);
    return all;
  }

  bool barrier_ends_round() const override { return true; }
  bool receives_payload(int, int) const override { return true; }
  std::uint64_t messages_per_round(int ranks) const override {
    return static_cast<std::uint64_t>(ranks) * static_cast<std::uint64_t>(ranks - 1);
  }

  void round(int me, int, const std::vector<PeerChannel*>& by_peer, Check check) const override {
    for (int partner : partners_[static_cast<std::size_t>(me)]) {
      if (partner < 0) continue;
      PeerChannel& peer = *by_peer[static_cast<std::size_t>(partner)];
      if (me < partner) {
        peer.send();
        peer.recv(check);
      } else {
        peer.recv(check);
        peer.send();
      }
    }
  }

  Measurement measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const override {
    const double n = static_cast<double>(times.size());
    const double r = static_cast<double>(rounds);
    const double round_ns = max_total_ns(times) / r;
    const double slowest_ns = max_busy_ns(times) / r;
    Measurement m;
    m.seconds_per_iteration = round_ns * 1e-9;
    m.counters["round_ns"] = round_ns;
    m.counters["slowest_rank_ns"] = slowest_ns;
    m.counters["fastest_rank_ns"] = min_busy_ns(times) / r;
    // Each rank sends N-1 and receives N-1 messages, one exchange per step:
    // its share of a round is 2(N-1) one-way messages.
    m.counters["per_message_ns"] = slowest_ns / (2 * (n - 1));
    m.counters["bytes_per_second"] = n * (n - 1) * static_cast<double>(cell.size) / (round_ns * 1e-9);
    return m;
  }

 private:
  std::vector<std::vector<int>> partners_;  // partners_[rank][step]
};

constexpr Counter kAlltoallOwnCounters[] = {
    {"round_ns", "ns", "the slowest rank's time per round, closing barrier included", "round {}"},
    {"slowest_rank_ns", "ns", "the slowest rank's time per round until its own transfers were done", "slowest rank {}",
     true},
    {"per_message_ns", "ns", "slowest_rank_ns / (2(N-1)): a rank sends and receives N-1 messages a round",
     "per message {}"},
    {"bytes_per_second", "B/s", "N(N-1) SIZE per round / round_ns", "{}"},
    {"fastest_rank_ns", "ns", "the fastest rank's time per round until its own transfers were done"},
};
constexpr auto kAlltoallCounters = with_cpu_counters(kAlltoallOwnCounters);

}  // namespace

extern const Scenario kAlltoallScenario{
    .id = "alltoall",
    .summary = "every rank sends SIZE to every other rank and receives SIZE from each, pairwise; a barrier ends "
               "the round",
    .iteration = "one round",
    .name_keys = kCommonNameKeys,
    .counters = kAlltoallCounters,
    .primary_metric = "round_ns",
    .sends_to = Peers::every_other,
    .receives_from = Peers::every_other,
    .ranks = 4,
    .min_ranks = 2,
    .max_ranks = kMaxRanks,
    .start =
        [](const Topology& topology, const CellSpec& cell) {
          return start_group_session(topology, cell,
                                     std::make_unique<AlltoallPattern>(static_cast<int>(cell.cpus.size())));
        },
};

}  // namespace ipcatlas
