// stream: unidirectional bandwidth with a window of messages in flight, as
// osu_bw: rank 0 sends WINDOW messages of SIZE back to back, rank 1 receives
// them and answers with an empty message. One iteration is one window.
//
// --bidirectional (osu_bibw): both ranks send WINDOW messages to each other
// at the same time, each sending message i before receiving message i. Ranks
// are single-threaded and send() blocks, so this works only for messages a
// send can complete while the peer is itself sending (the mechanism's
// bidirectional_limit); larger ones are skipped with that reason.
#include "harness/base/sizes.hpp"
#include "scenarios/support/group.hpp"

#include <fmt/format.h>

namespace ipcatlas {
namespace {

class StreamPattern final : public Pattern {
 public:
  explicit StreamPattern(const CellSpec& cell)
      : window_(cell.stream.window), bidirectional_(cell.stream.bidirectional) {}

  std::vector<std::pair<int, int>> pairs(int) const override { return {{0, 1}}; }
  bool barrier_ends_round() const override { return false; }
  // One way, rank 0 receives only the empty acknowledgement of each window.
  bool receives_payload(int rank, int) const override { return bidirectional_ || rank == 1; }
  std::uint64_t messages_per_round(int) const override {
    return static_cast<std::uint64_t>(window_) * (bidirectional_ ? 2 : 1);
  }

  void round(int me, int, const std::vector<PeerChannel*>& by_peer, Check check) const override {
    PeerChannel& peer = *by_peer[static_cast<std::size_t>(1 - me)];
    if (bidirectional_) {
      for (int i = 0; i < window_; ++i) {
        peer.send();
        peer.recv(check);
      }
      return;
    }
    if (me == 0) {
      for (int i = 0; i < window_; ++i) peer.send();
      peer.recv_ack();
    } else {
      for (int i = 0; i < window_; ++i) peer.recv(check);
      peer.send_ack();
    }
  }

  Measurement measure(const CellSpec& cell, std::span<const RankTimes> times, std::uint64_t rounds) const override {
    const double window_ns = static_cast<double>(times[0].total_ns) / static_cast<double>(rounds);
    const double messages = static_cast<double>(window_) * (bidirectional_ ? 2 : 1);
    Measurement m;
    m.seconds_per_iteration = window_ns * 1e-9;
    m.counters["window_ns"] = window_ns;
    m.counters["bytes_per_second"] = messages * static_cast<double>(cell.size) / (window_ns * 1e-9);
    m.counters["messages_per_second"] = messages / (window_ns * 1e-9);
    return m;
  }

 private:
  int window_;
  bool bidirectional_;
};

std::string stream_cannot_run(const CellSpec& cell) {
  if (!cell.stream.bidirectional) return "";
  const std::size_t limit = cell.mechanism->bidirectional_limit ? cell.mechanism->bidirectional_limit() : 0;
  if (cell.size <= limit) return "";
  const std::string id(cell.mechanism->id);
  if (limit == 0)
    return id + " cannot stream both ways: its send() waits for the receiver, and a rank cannot receive while it "
                "sends (ranks are single-threaded)";
  return fmt::format("{} cannot stream {} both ways: a send() completes without the receiver only up to {}, and a rank "
                     "cannot receive while it sends",
                     id, format_size(cell.size), format_size(limit));
}

constexpr std::string_view kStreamNameKeys[] = {"size", "ranks",   "window", "dir",     "placement",
                                                "wait", "membind", "cache",  "segments"};

constexpr Counter kStreamOwnCounters[] = {
    {"window_ns", "ns", "time of one window: WINDOW messages and the empty acknowledgement", "window {}"},
    {"bytes_per_second", "B/s", "bytes of a window (both directions when bidirectional) / window_ns", "{}"},
    {"messages_per_second", "1/s", "messages of a window (both directions when bidirectional) / window_ns", "{} msg/s"},
};
constexpr auto kStreamCounters = with_cpu_counters(kStreamOwnCounters);

}  // namespace

extern const Scenario kStreamScenario{
    .id = "stream",
    .summary = "rank 0 sends WINDOW messages back to back, rank 1 acknowledges the window (osu_bw); "
               "--bidirectional: both send at once (osu_bibw)",
    .iteration = "one window",
    .name_keys = kStreamNameKeys,
    .counters = kStreamCounters,
    .primary_metric = "window_ns",
    .sends_to = Peers::one,
    .receives_from = Peers::one,
    .ranks = 2,
    .min_ranks = 2,
    .max_ranks = 2,
    .start =
        [](const Topology& topology, const CellSpec& cell) {
          return start_group_session(topology, cell, std::make_unique<StreamPattern>(cell));
        },
    .cannot_run = stream_cannot_run,
};

}  // namespace ipcatlas
