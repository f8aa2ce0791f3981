// The cache line two linked ranks signal through.
//
// One Line per link carries both directions; direction d is the traffic sent
// by side d. Side s owns one 64-bit state word: the number of messages it
// has posted (low half) and the number of the peer's messages it has
// consumed (high half). It also owns a 32-bit info word and a 20-byte slot,
// which carry a small message inline (shm, zerocopy) or a rendezvous
// descriptor (pull/push mechanisms).
//
// The peer polls this line, so every separate burst of stores into it costs
// a transfer of the line. Hence one word per side, so that posting a message
// and acknowledging the peer's previous one is one store; and a consume is
// not published on its own: it rides on the next post, or is published by
// the next wait of this process, whatever it waits for (see DeferredSignal
// in wait.hpp), so the peer can never be left waiting for it. A small
// ping-pong thus moves one cache line per message.
//
// Counts are 32-bit (futex words) and compared for equality or signed
// distance, so wrapping is harmless.
//
// The calls a message makes are inline: between a message's arrival and
// the reply, every out-of-line call shows in a small ping-pong (with them
// out of line, the state words alone cost 6-8 ns more per one-way message
// than written inline; ci/small-message-probe, AMD EPYC).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "harness/ranks/wait.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

struct MailboxShared {
  static constexpr std::size_t kSlotBytes = 20;
  struct alignas(64) Line {
    std::atomic<std::uint64_t> state[2];  // side s: posted (bits 0-31), consumed (bits 32-63)
    std::uint32_t info[2];
    std::byte slot[2][kSlotBytes];
  };
  static_assert(sizeof(Line) == 64, "the mailbox must be exactly one cache line");

  Line line;
  alignas(64) std::atomic<std::uint32_t> sleepers[2];  // side s sleeps (block/adaptive: futex; eventfd: epoll)
};

// The probe of the shared-memory mechanisms: can this process map shared memory?
Availability probe_shared_memory();

// Copies up to kSlotBytes bytes with a few overlapping word moves instead of
// a call to memcpy: on the 8-byte ping-pong a library call is measurable.
inline void copy_small(std::byte* dst, const std::byte* src, std::size_t n) {
  if (n > 16) {
    std::uint64_t a, b, c;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n / 2 - 4, 8);
    std::memcpy(&c, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n / 2 - 4, &b, 8);
    std::memcpy(dst + n - 8, &c, 8);
  } else if (n >= 8) {
    std::uint64_t a, c;
    std::memcpy(&a, src, 8);
    std::memcpy(&c, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &c, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// One rank's view of the mailbox: it sends on direction `side` and receives
// on the other.
class MailboxEnd final : public DeferredSignal {
 public:
  MailboxEnd() = default;
  // `doorbells`: the link's eventfds (EventfdDoorbell::fds()), for WaitPolicy::eventfd.
  MailboxEnd(MailboxShared* shared, Side side, WaitPolicy policy, EventfdFds doorbells = {});
  MailboxEnd& operator=(const MailboxEnd& other);
  MailboxEnd(const MailboxEnd&) = delete;
  ~MailboxEnd() { forget_deferred_signal(this); }

  // --- sending ---
  std::span<std::byte> out_slot() { return {line().slot[me_], MailboxShared::kSlotBytes}; }
  void set_out_info(std::uint32_t info) { line().info[me_] = info; }
  // Blocks until the peer has consumed everything this side posted.
  void wait_all_consumed() {
    const std::uint32_t want = posted_;
    wait_until_half(
        line().state[peer_], kConsumedHalf, [want](std::uint32_t v) { return v == want; }, waiting_);
  }
  // Publishes the slot and info written since the last post (and any consume).
  void post() {
    ++posted_;
    publish_state();
  }
  // post() for a message whose last stores into the line `fill` makes: the
  // state word and where it goes are computed first, so that fill's stores
  // and the post are consecutive instructions. Why: a gap of even ~9 ns
  // there lets the polling peer take the line back before the post, which
  // then costs another transfer (ci/small-message-probe, more-before-post).
  // `fill` gets the slot and the info word.
  template <class Fill>
  void post_after(Fill&& fill) {
    ++posted_;
    const std::uint64_t state = state_word();
    MailboxShared::Line& l = line();
    const bool spinning = waiting_.policy == WaitPolicy::spin;
    fill(l.slot[me_], l.info[me_]);
    if (spinning) l.state[me_].store(state, std::memory_order_release);
    else publish(l.state[me_], state, waiting_);
    forget_deferred_signal(this);
  }

  // --- receiving ---
  // Blocks until the peer posts its next message.
  void wait_posted() {
    const std::uint32_t want = received_ + 1;
    // Signed distance, so a sender that runs ahead (posting twice) cannot be missed.
    wait_until_half(
        line().state[peer_], kPostedHalf, [want](std::uint32_t v) { return static_cast<std::int32_t>(v - want) >= 0; },
        waiting_);
    received_ = want;
  }
  std::span<const std::byte> in_slot() const { return {line().slot[peer_], MailboxShared::kSlotBytes}; }
  std::uint32_t in_info() const { return line().info[peer_]; }
  // Marks everything received so far as consumed. Published with the next
  // post(), or before this process next waits for anything.
  void consume() {
    consumed_ = received_;
    defer_signal(this);
  }

  void publish_now() override { publish_state(); }

  const Waiting& waiting() const { return waiting_; }

 private:
  static constexpr int kPostedHalf = 0;
  static constexpr int kConsumedHalf = 1;

  MailboxShared::Line& line() const { return shared_->line; }
  // The store first: whatever this process does between its first store
  // into the line (the payload) and this one widens the window in which the
  // polling peer can take the line back, which costs a line transfer
  // (ci/small-message-probe, step work-before-post).
  void publish_state() {
    publish(line().state[me_], state_word(), waiting_);
    forget_deferred_signal(this);
  }
  // This side's state word: posted (bits 0-31), consumed (bits 32-63).
  std::uint64_t state_word() const { return posted_ | (std::uint64_t{consumed_} << 32); }

  MailboxShared* shared_ = nullptr;
  int me_ = 0;
  int peer_ = 1;
  std::uint32_t posted_ = 0;    // messages this side posted
  std::uint32_t received_ = 0;  // messages this side received
  std::uint32_t consumed_ = 0;  // messages this side consumed (published or deferred)
  Waiting waiting_;
};

}  // namespace ipcatlas
