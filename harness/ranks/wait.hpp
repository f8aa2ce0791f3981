// How a rank waits for a 32-bit word in shared memory to change, and how the
// writer wakes it. Every mechanism signals through these two functions, so
// signalling costs the same everywhere and the copy cost stands out.
//
//   spin:     poll with PAUSE. Lowest latency; needs a core per rank.
//   block:    sleep in futex(FUTEX_WAIT) at once. Costs a wake-up syscall on
//             the writer's side and a context switch on the waiter's.
//   adaptive: spin for kAdaptiveSpins polls, then block.
//   eventfd:  as block, but sleep in epoll_wait() on this side's eventfd,
//             which the writer write()s: the progress of Mercury's shared-
//             memory plugin (na_sm), which waits in epoll so that one thread
//             can wait on many transports at once. The eventfds are a link's
//             (EventfdDoorbell, mechanisms/support/eventfd_doorbell.hpp);
//             waits that are not on a link (the rank group's barriers) block.
//
// Memory ordering: publish() is a release store and wait_until() an acquire
// load, so bytes written before publish() are visible after wait_until().
// In block and eventfd mode both sides use seq_cst on the word and on the
// sleeper count (a Dekker pair): either the writer sees the sleeper, or the
// sleeper sees the new value before it sleeps. Words must live in MAP_SHARED
// memory; the futex calls are not FUTEX_PRIVATE because the waiters are other
// processes.
//
// Why eventfd wakes on the same condition as block (the peer's sleeper count
// is non-zero), not at every publish: so that block and eventfd differ only
// in how a rank sleeps and is woken (futex against epoll + eventfd), and
// compare fairly. Mercury does the same: its receiver sets a `polling` flag
// in the shared ring before it checks for messages and sleeps, and a sender
// write()s the peer's eventfd only when that flag is set (na_sm.c,
// na_sm_poll_try_wait() and na_sm_msg_insert(), 2017).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace ipcatlas {

enum class WaitPolicy { spin, block, adaptive, eventfd };

std::string_view to_string(WaitPolicy policy);
// Throws UsageError for anything but spin, block, adaptive or eventfd.
WaitPolicy parse_wait_policy(std::string_view text);

// The policy of waits that are not on a link (the rank group's barriers and
// commands): eventfd needs a link's doorbells, so those waits block instead.
constexpr WaitPolicy control_wait_policy(WaitPolicy policy) {
  return policy == WaitPolicy::eventfd ? WaitPolicy::block : policy;
}

inline constexpr int kAdaptiveSpins = 20000;                  // about 250 us of PAUSE here
inline constexpr std::uint32_t kSpinsBeforeYield = 1u << 16;  // about 1 ms of PAUSE here

void yield_processor();  // sched_yield()

// The eventfd policy's file descriptors of one side of a link, all owned by
// the link (EventfdDoorbell); -1 when the policy is not eventfd.
struct EventfdFds {
  int my_epoll = -1;      // an epoll set holding my_eventfd: where this side sleeps
  int my_eventfd = -1;    // this side's doorbell, drained after each sleep
  int peer_eventfd = -1;  // the peer's doorbell, written to wake it
};

// The waiting discipline of one side: its policy and the counter in shared
// memory where it announces that it is asleep.
struct Waiting {
  WaitPolicy policy = WaitPolicy::spin;
  std::atomic<std::uint32_t>* my_sleepers = nullptr;    // I increment it before sleeping
  std::atomic<std::uint32_t>* peer_sleepers = nullptr;  // I wake the peer when it is non-zero
  EventfdFds eventfd;                                   // eventfd policy only
};

// Acknowledgements a process has not published yet (see MailboxEnd::consume).
// Publishing them lazily lets an acknowledgement ride on the next message's
// store instead of costing a cache-line transfer of its own. To keep that
// deadlock-free, every wait in this file publishes all of them before it
// spins or sleeps: a process never waits while holding one.
class DeferredSignal {
 public:
  virtual void publish_now() = 0;

 protected:
  ~DeferredSignal() = default;
};
// The signals this process holds: a plain array, per process (ranks are
// single-threaded processes). Inline, as the functions below: they sit on
// the path of every small message, between its arrival and the reply, where
// an out-of-line call measurably adds to a ~40 ns one-way time
// (ci/small-message-probe).
namespace deferred_detail {
inline constexpr int kMaxSignals = 64;
inline DeferredSignal* g_signals[kMaxSignals];
inline int g_count = 0;
}  // namespace deferred_detail

// Registers a signal to publish before this process next waits (at most
// 64; beyond that it is published at once).
inline void defer_signal(DeferredSignal* signal) {
  using namespace deferred_detail;
  for (int i = 0; i < g_count; ++i)
    if (g_signals[i] == signal) return;
  if (g_count == kMaxSignals) return signal->publish_now();
  g_signals[g_count++] = signal;
}

inline void publish_deferred_signals() {
  using namespace deferred_detail;
  while (g_count > 0) g_signals[--g_count]->publish_now();
}

// For a signal about to be destroyed, or published by other means.
inline void forget_deferred_signal(DeferredSignal* signal) {
  using namespace deferred_detail;
  for (int i = 0; i < g_count; ++i)
    if (g_signals[i] == signal) g_signals[i] = g_signals[--g_count];
}

// The futex calls take the address of a 32-bit word: a std::atomic<uint32_t>,
// or one half of a std::atomic<uint64_t> (see half_of()).
void futex_wait(const void* word, std::uint32_t expected);
void futex_wake_all(const void* word);

// The eventfd policy. eventfd_sleep() sleeps in epoll_wait() until this
// side's eventfd is readable, then drains it (read()); it returns early on a
// signal or a ring meant for an earlier wait, which the caller treats as any
// spurious wake: it checks its word again. eventfd_ring() adds 1 to an
// eventfd. Both throw std::logic_error without a link's doorbells.
void eventfd_sleep(const EventfdFds& fds);
void eventfd_ring(int peer_eventfd);

inline void cpu_relax() { __builtin_ia32_pause(); }

// Sleeps until the peer may have published: futex_wait() on the word (block,
// adaptive) or eventfd_sleep() (eventfd). Both may return without a change.
// No wake is lost: futex_wait() sleeps only while the word still holds `seen`,
// and an eventfd keeps a ring made before the sleep in its counter.
inline void sleep_until_woken(const void* futex_word, std::uint32_t seen, const Waiting& how) {
  if (how.policy == WaitPolicy::eventfd) eventfd_sleep(how.eventfd);
  else futex_wait(futex_word, seen);
}

// Waits until done(read()) is true and returns that value. read() must be an
// acquire load of the 32-bit word at futex_word.
template <class Read, class Done>
std::uint32_t wait_for(Read read, const void* futex_word, Done done, const Waiting& how) {
  std::uint32_t value = read();
  if (done(value)) return value;
  publish_deferred_signals();
  if (how.policy == WaitPolicy::spin) {
    // A rank that shares its PU with the one it waits for (oversubscribed)
    // would spin away its whole time slice: yield now and then, so that
    // spinning can be slow there but never stuck. Far beyond any fast path.
    for (std::uint32_t spins = 1;; ++spins) {
      cpu_relax();
      value = read();
      if (done(value)) return value;
      if (spins % kSpinsBeforeYield == 0) yield_processor();
    }
  }
  if (how.policy == WaitPolicy::adaptive) {
    for (int i = 0; i < kAdaptiveSpins; ++i) {
      cpu_relax();
      value = read();
      if (done(value)) return value;
    }
  }
  for (;;) {
    how.my_sleepers->fetch_add(1, std::memory_order_seq_cst);
    value = read();
    if (!done(value)) sleep_until_woken(futex_word, value, how);
    how.my_sleepers->fetch_sub(1, std::memory_order_relaxed);
    value = read();
    if (done(value)) return value;
  }
}

template <class Done>
std::uint32_t wait_until(const std::atomic<std::uint32_t>& word, Done done, const Waiting& how) {
  static_assert(sizeof(word) == 4, "futex words are 32 bits");
  return wait_for([&word] { return word.load(std::memory_order_seq_cst); }, &word, done, how);
}

// Half 0 (bits 0-31) or half 1 (bits 32-63) of a 64-bit word, as the
// address of a 32-bit futex word (x86 is little-endian).
inline const void* half_of(const std::atomic<std::uint64_t>& word, int half) {
  return reinterpret_cast<const std::uint32_t*>(&word) + half;
}

template <class Done>
std::uint32_t wait_until_half(const std::atomic<std::uint64_t>& word, int half, Done done, const Waiting& how) {
  return wait_for([&word,
                   half] { return static_cast<std::uint32_t>(word.load(std::memory_order_seq_cst) >> (32 * half)); },
                  half_of(word, half), done, how);
}

// Stores value into word and wakes the peer if it may be asleep on it.
inline void publish(std::atomic<std::uint32_t>& word, std::uint32_t value, const Waiting& how) {
  if (how.policy == WaitPolicy::spin) {
    word.store(value, std::memory_order_release);
    return;
  }
  word.store(value, std::memory_order_seq_cst);
  if (how.peer_sleepers->load(std::memory_order_seq_cst) == 0) return;
  if (how.policy == WaitPolicy::eventfd) eventfd_ring(how.eventfd.peer_eventfd);
  else futex_wake_all(&word);
}

// The same for a 64-bit word whose halves are waited on separately: one
// store publishes both, and a sleeping peer is woken on each half.
inline void publish(std::atomic<std::uint64_t>& word, std::uint64_t value, const Waiting& how) {
  if (how.policy == WaitPolicy::spin) {
    word.store(value, std::memory_order_release);
    return;
  }
  word.store(value, std::memory_order_seq_cst);
  if (how.peer_sleepers->load(std::memory_order_seq_cst) == 0) return;
  if (how.policy == WaitPolicy::eventfd) {
    eventfd_ring(how.eventfd.peer_eventfd);  // one doorbell, whichever half the peer waits on
    return;
  }
  futex_wake_all(half_of(word, 0));
  futex_wake_all(half_of(word, 1));
}

}  // namespace ipcatlas
