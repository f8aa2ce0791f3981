// One rank's end of one link, carrying validated messages: its own send and
// receive buffers, and the seeds and sequence numbers that make every
// message's payload unique (harness/ranks/payload.hpp). The multi-rank scenarios
// (stream, alltoall, manytoone, onetomany) talk only through channels;
// pingpong keeps its own tighter loop for latency.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "harness/ranks/payload.hpp"
#include "mechanisms/mechanism.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/support/buffer_pool.hpp"
#include "scenarios/support/message_layout.hpp"

namespace ipcatlas {

enum class Check { stamp, full };

// Where one end of a channel keeps its messages: `count` buffers, each
// holding a message of `size` bytes in `segments` segments (message_layout.hpp)
// from `offset` bytes past a page boundary, on `numa_node`.
struct ChannelBuffers {
  std::size_t size = 0;
  std::size_t offset = 0;
  std::size_t count = 1;     // 1: hot, every message reuses one buffer each way
  int numa_node = -1;        // -1: the kernel's default
  std::size_t segments = 1;  // > 1: scatter/gather, moved with the link's *_segments calls
};
// The buffers of a channel of `cell` at `rank`, which has `channels` channels:
// with a cold cache they share the rank's pool budget (buffer_pool.hpp).
ChannelBuffers channel_buffers(const CellSpec& cell, int rank, int channels);

class PeerChannel {
 public:
  // `link` connects ranks `me` and `peer`; the lower rank is side a. `salt`
  // is the session's, the same in every rank. Sends rotate through one pool
  // of `buffers`, receives through another (hot: one buffer each).
  PeerChannel(Link& link, int me, int peer, const ChannelBuffers& buffers, std::uint64_t salt);

  int peer() const { return peer_; }
  // In the rank, after fork.
  void open(pid_t peer_pid);
  // New seeds for `batch`; restarts sequence numbers; fills the body of
  // every send buffer.
  void begin_batch(std::uint64_t batch);

  // Inline, as is everything they call on a copying link's path between a
  // message's arrival and the reply (see next_stamp()). They call the link's
  // plain send/recv: one virtual call instead of three per message.
  void send() {
    if (layout_.segmented()) return send_segmented();
    ++sent_;
    if (builds_in_place_) return send_in_place();
    link_.send(own_outgoing());
    next_stamp();
  }
  void recv(Check check) {
    if (layout_.segmented()) return recv_segmented(check);
    expected_in_ = make_stamp(size_, {seed_in_, received_});
    verify(link_.recv(incoming()), check);
    in_.advance();
  }
  // An empty message, unchecked (stream's end-of-window acknowledgement).
  void send_ack();
  void recv_ack() { link_.recv({}); }
  // Split-phase (see Link): at most one of each pending.
  void begin_send();
  void end_send();
  void begin_recv();
  void end_recv(Check check);

 private:
  std::span<std::byte> outgoing();
  // The next outgoing message in the channel's own buffers (a copying link).
  std::span<std::byte> own_outgoing() { return out_.current().subspan(offset_, size_); }
  // After a send completes: the next buffer, its stamp, and (in our own
  // buffer) the stamp written into it.
  void next_stamp();
  void send_in_place();  // zerocopy: the message is built in the link's memory
  std::span<std::byte> incoming() { return in_.current().subspan(offset_, size_); }
  // Inline: between a message's arrival and the reply (see next_stamp()).
  void verify(std::span<const std::byte> got, Check check) {
    ++received_;
    if (check == Check::stamp && stamp_matches(got, expected_in_)) return;
    verify_all(got);
  }
  // Every byte against what the message's key implies; throws naming the first that differs.
  void verify_all(std::span<const std::byte> got);
  // The scatter/gather forms of the calls above (segmented_channel.cpp).
  void lay_out_segments();
  void begin_segmented_batch();
  void send_segmented();
  void recv_segmented(Check check);
  void begin_send_segmented();
  void end_send_segmented();
  void begin_recv_segmented();
  void end_recv_segmented(Check check);
  void verify_segmented(Check check);

  Link& link_;
  int me_, peer_;
  std::size_t size_, offset_;
  std::uint64_t salt_;
  MessageLayout layout_;
  BufferPool out_, in_;
  // When segmented: the iovecs of every buffer of out_ and in_, by position.
  std::vector<std::vector<iovec>> out_segments_, in_segments_;
  std::uint64_t seed_out_ = 0, seed_in_ = 0, sent_ = 0, received_ = 0;
  bool builds_in_place_ = false;  // the link lends the memory of outgoing messages (zerocopy)
  // Stamps computed before they are needed, off the critical path: the next
  // outgoing one when a send ends, the expected incoming one when a receive
  // begins (before it waits). See pingpong.cpp for why it matters.
  Stamp next_out_, expected_in_;
  MessageLayout::Stamps next_out_segments_, expected_in_segments_;  // the same, when segmented
};

}  // namespace ipcatlas
