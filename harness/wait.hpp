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

inline constexpr int kAdaptiveSpins = 20000;  // about 50 us of PAUSE here

// The waiting discipline of one side: its policy and the counter in shared
// memory where it announces that it is asleep.
struct Waiting {
  WaitPolicy policy = WaitPolicy::spin;
  std::atomic<std::uint32_t>* my_sleepers = nullptr;    // I increment it before sleeping
  std::atomic<std::uint32_t>* peer_sleepers = nullptr;  // I wake the peer when it is non-zero
};

void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected);
void futex_wake_all(std::atomic<std::uint32_t>& word);

inline void cpu_relax() { __builtin_ia32_pause(); }

// Waits until done(value of word) is true; returns that value.
template <class Done>
std::uint32_t wait_until(const std::atomic<std::uint32_t>& word, Done done, const Waiting& how) {
  std::uint32_t value = word.load(std::memory_order_acquire);
  if (done(value)) return value;
  if (how.policy == WaitPolicy::spin) {
    do {
      cpu_relax();
      value = word.load(std::memory_order_acquire);
    } while (!done(value));
    return value;
  }
  if (how.policy == WaitPolicy::adaptive) {
    for (int i = 0; i < kAdaptiveSpins; ++i) {
      cpu_relax();
      value = word.load(std::memory_order_acquire);
      if (done(value)) return value;
    }
  }
  for (;;) {
    how.my_sleepers->fetch_add(1, std::memory_order_seq_cst);
    value = word.load(std::memory_order_seq_cst);
    if (!done(value)) futex_wait(word, value);
    how.my_sleepers->fetch_sub(1, std::memory_order_relaxed);
    value = word.load(std::memory_order_acquire);
    if (done(value)) return value;
  }
}

// Stores value into word and wakes the peer if it may be asleep on it.
inline void publish(std::atomic<std::uint32_t>& word, std::uint32_t value, const Waiting& how) {
  if (how.policy == WaitPolicy::spin) {
    word.store(value, std::memory_order_release);
    return;
  }
  word.store(value, std::memory_order_seq_cst);
  if (how.peer_sleepers->load(std::memory_order_seq_cst) != 0) futex_wake_all(word);
}

}  // namespace ipcatlas
