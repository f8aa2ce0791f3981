#include "scenarios/support/channel.hpp"

#include <stdexcept>

#include "harness/ranks/launcher.hpp"

namespace ipcatlas {

ChannelBuffers channel_buffers(const CellSpec& cell, int rank, int channels) {
  ChannelBuffers b{cell.size, cell.test.buffer_offset, 1,
                   node_for_pu(cell.membind, cell.cpus.at(static_cast<std::size_t>(rank))), cell.segments};
  if (cell.cache == CacheState::cold)
    b.count = cold_pool_count(MessageLayout(b.size, b.segments).extent() + b.offset,
                              (cell.cold_pool_bytes + static_cast<std::size_t>(channels) - 1) /
                                  static_cast<std::size_t>(channels));
  return b;
}

PeerChannel::PeerChannel(Link& link, int me, int peer, const ChannelBuffers& buffers, std::uint64_t salt)
    : link_(link),
      me_(me),
      peer_(peer),
      size_(buffers.size),
      offset_(buffers.offset),
      salt_(salt),
      layout_(buffers.size, buffers.segments),
      out_(layout_.extent() + buffers.offset, buffers.count, buffers.numa_node),
      in_(layout_.extent() + buffers.offset, buffers.count, buffers.numa_node) {
  if (layout_.segmented()) lay_out_segments();
}

void PeerChannel::open(pid_t peer_pid) { link_.open(me_ < peer_ ? Side::a : Side::b, peer_pid); }

namespace {

// The seed of the messages from rank `from` to rank `to` in `batch`: both
// ends compute it from the session's salt.
std::uint64_t direction_seed(std::uint64_t salt, int from, int to, std::uint64_t batch) {
  const auto direction = static_cast<std::uint64_t>(from * kMaxRanks + to + 1);
  return payload_seed(salt + direction * 0x9e3779b97f4a7c15ULL, batch, 0);
}

}  // namespace

void PeerChannel::begin_batch(std::uint64_t batch) {
  seed_out_ = direction_seed(salt_, me_, peer_, batch);
  seed_in_ = direction_seed(salt_, peer_, me_, batch);
  sent_ = received_ = 0;
  if (layout_.segmented()) return begin_segmented_batch();
  next_out_ = make_stamp(size_, {seed_out_, sent_});
  const std::span<std::byte> shared = link_.message_memory(size_ + offset_);
  builds_in_place_ = !shared.empty();
  if (builds_in_place_) {  // zerocopy: messages are built in the link's memory, not in the pool
    fill_body(shared.subspan(offset_, size_), seed_out_);
    return;
  }
  // Every buffer of a pool carries the same body: hash it once, copy it
  // past the cache (a cold pool is 64 MiB here; buffer_pool.hpp says why).
  fill_body(out_.at(0).subspan(offset_, size_), seed_out_);
  out_.copy_body_to_all(offset_, size_);
  write_stamp(own_outgoing(), next_out_);
}

std::span<std::byte> PeerChannel::outgoing() {
  // Only a link that builds messages in place has memory to offer: asking
  // any other would be a virtual call on every message's path for nothing.
  if (!builds_in_place_) return own_outgoing();
  return link_.message_memory(size_ + offset_).subspan(offset_, size_);
}

// Memory the link lends (zerocopy) is only ours once message_memory()
// returns, so the link writes the stamp there (Link::send_stamped).
void PeerChannel::send_in_place() {
  link_.send_stamped(offset_, size_, next_out_);
  next_stamp();
}

// In a buffer of its own, the channel writes a message's stamp as soon as
// the send before it has completed, not at its own send: in a ping-pong the
// send comes right after a message arrives, and whatever happens between
// the two adds to the one-way time (ci/small-message-probe).
void PeerChannel::next_stamp() {
  out_.advance();
  next_out_ = make_stamp(size_, {seed_out_, sent_});
  if (!builds_in_place_) write_stamp(own_outgoing(), next_out_);
}

void PeerChannel::send_ack() {
  // zerocopy sends only what was built in its memory, even when empty.
  const std::span<std::byte> shared = link_.message_memory(0);
  link_.send(shared.empty() ? std::span<std::byte>() : shared.subspan(0, 0));
}

void PeerChannel::begin_send() {
  if (layout_.segmented()) return begin_send_segmented();
  const std::span<std::byte> msg = outgoing();
  if (builds_in_place_) write_stamp(msg, next_out_);
  ++sent_;
  link_.begin_send(msg);
}

void PeerChannel::end_send() {
  if (layout_.segmented()) return end_send_segmented();
  link_.end_send();
  next_stamp();
}

void PeerChannel::begin_recv() {
  if (layout_.segmented()) return begin_recv_segmented();
  expected_in_ = make_stamp(size_, {seed_in_, received_});
  link_.begin_recv(incoming());
}

void PeerChannel::end_recv(Check check) {
  if (layout_.segmented()) return end_recv_segmented(check);
  verify(link_.end_recv(), check);
  in_.advance();
}

void PeerChannel::verify_all(std::span<const std::byte> got) {
  const PayloadKey key{seed_in_, received_ - 1};
  if (const auto bad = first_mismatch(got, key))
    throw std::runtime_error(describe_mismatch(*bad, key.seq, peer_, me_, got.size()));
}

}  // namespace ipcatlas
