// The cache line two linked ranks signal through.
//
// One Line per link carries both directions: direction d is the traffic sent
// by side d. For each direction it holds the count of messages posted (by the
// sender), the count consumed (by the receiver), a 32-bit info word and a
// 20-byte slot. The slot carries a small message inline (shm, zerocopy) or a
// rendezvous descriptor (an address and a length, for pull/push mechanisms).
// Keeping all of it in one line means a ping-pong moves one line per message.
//
// Counts are 32-bit (futex words) and compared for equality, so wrapping is
// harmless.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "harness/wait.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

struct MailboxShared {
  static constexpr std::size_t kSlotBytes = 20;
  struct alignas(64) Line {
    std::atomic<std::uint32_t> posted[2];
    std::atomic<std::uint32_t> consumed[2];
    std::uint32_t info[2];
    std::byte slot[2][kSlotBytes];
  };
  static_assert(sizeof(Line) == 64, "the mailbox must be exactly one cache line");

  Line line;
  alignas(64) std::atomic<std::uint32_t> sleepers[2];  // side s sleeps in a futex (block/adaptive)
};

// One rank's view of the mailbox: it sends on direction `side` and receives
// on the other.
class MailboxEnd {
 public:
  MailboxEnd() = default;
  MailboxEnd(MailboxShared* shared, Side side, WaitPolicy policy);

  // --- sending ---
  std::span<std::byte> out_slot() { return {line().slot[out_], MailboxShared::kSlotBytes}; }
  void set_out_info(std::uint32_t info) { line().info[out_] = info; }
  // Blocks until the peer has consumed everything this side posted.
  void wait_all_consumed();
  // Publishes the slot and info written since the last post.
  void post();

  // --- receiving ---
  // Blocks until the peer posts its next message.
  void wait_posted();
  std::span<const std::byte> in_slot() const { return {line().slot[in_], MailboxShared::kSlotBytes}; }
  std::uint32_t in_info() const { return line().info[in_]; }
  // Tells the peer that the message received last is consumed.
  void consume();

  const Waiting& waiting() const { return waiting_; }

 private:
  MailboxShared::Line& line() const { return shared_->line; }

  MailboxShared* shared_ = nullptr;
  int out_ = 0;
  int in_ = 1;
  std::uint32_t posted_ = 0;    // messages this side posted
  std::uint32_t received_ = 0;  // messages this side received
  Waiting waiting_;
};

}  // namespace ipcatlas
