// How a rank waits for a 32-bit word in shared memory to change, and how the
// writer wakes it. Every mechanism signals through these two functions, so
// signalling costs the same everywhere and the copy cost stands out.
//
//   spin:     poll with PAUSE. Lowest latency; needs a core per rank.
//   block:    sleep in futex(FUTEX_WAIT) at once. Costs a wake-up syscall on
//             the writer's side and a context switch on the waiter's.
//   adaptive: spin for kAdaptiveSpins polls, then block.
//
// Memory ordering: publish() is a release store and wait_until() an acquire
// load, so bytes written before publish() are visible after wait_until().
// In block mode both sides use seq_cst on the word and on the sleeper count
// (a Dekker pair): either the writer sees the sleeper, or the sleeper sees
// the new value before it sleeps. Words must live in MAP_SHARED memory; the
// futex calls are not FUTEX_PRIVATE because the waiters are other processes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace ipcatlas {

enum class WaitPolicy { spin, block, adaptive };

std::string_view to_string(WaitPolicy policy);
// Throws UsageError for anything but spin, block or adaptive.
WaitPolicy parse_wait_policy(std::string_view text);

inline constexpr int kAdaptiveSpins = 20000;                  // about 250 us of PAUSE here
inline constexpr std::uint32_t kSpinsBeforeYield = 1u << 16;  // about 1 ms of PAUSE here

void yield_processor();  // sched_yield()

// The waiting discipline of one side: its policy and the counter in shared
// memory where it announces that it is asleep.
struct Waiting {
  WaitPolicy policy = WaitPolicy::spin;
  std::atomic<std::uint32_t>* my_sleepers = nullptr;    // I increment it before sleeping
  std::atomic<std::uint32_t>* peer_sleepers = nullptr;  // I wake the peer when it is non-zero
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
// Registers a signal to publish before this process next waits (at most 64).
void defer_signal(DeferredSignal* signal);
void publish_deferred_signals();
// For a signal about to be destroyed, or published by other means.
void forget_deferred_signal(DeferredSignal* signal);

// The futex calls take the address of a 32-bit word: a std::atomic<uint32_t>,
// or one half of a std::atomic<uint64_t> (see half_of()).
void futex_wait(const void* word, std::uint32_t expected);
void futex_wake_all(const void* word);

inline void cpu_relax() { __builtin_ia32_pause(); }

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
    if (!done(value)) futex_wait(futex_word, value);
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
  if (how.peer_sleepers->load(std::memory_order_seq_cst) != 0) futex_wake_all(&word);
}

// The same for a 64-bit word whose halves are waited on separately: one
// store publishes both, and a sleeping peer is woken on each half.
inline void publish(std::atomic<std::uint64_t>& word, std::uint64_t value, const Waiting& how) {
  if (how.policy == WaitPolicy::spin) {
    word.store(value, std::memory_order_release);
    return;
  }
  word.store(value, std::memory_order_seq_cst);
  if (how.peer_sleepers->load(std::memory_order_seq_cst) != 0) {
    futex_wake_all(half_of(word, 0));
    futex_wake_all(half_of(word, 1));
  }
}

}  // namespace ipcatlas
