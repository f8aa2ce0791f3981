#include "harness/ranks/wait.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "harness/base/error.hpp"

namespace ipcatlas {

std::string_view to_string(WaitPolicy policy) {
  switch (policy) {
    case WaitPolicy::spin: return "spin";
    case WaitPolicy::block: return "block";
    case WaitPolicy::adaptive: return "adaptive";
  }
  return "?";
}

WaitPolicy parse_wait_policy(std::string_view text) {
  if (text == "spin") return WaitPolicy::spin;
  if (text == "block") return WaitPolicy::block;
  if (text == "adaptive") return WaitPolicy::adaptive;
  throw UsageError("invalid wait policy '" + std::string(text) + "' (expected spin, block or adaptive)");
}

namespace {
// Per process (ranks are single-threaded processes). A plain array: the hot
// path only checks the count.
DeferredSignal* g_deferred[64];
int g_deferred_count = 0;
}  // namespace

void defer_signal(DeferredSignal* signal) {
  for (int i = 0; i < g_deferred_count; ++i)
    if (g_deferred[i] == signal) return;
  if (g_deferred_count == 64) {
    signal->publish_now();
    return;
  }
  g_deferred[g_deferred_count++] = signal;
}

void publish_deferred_signals() {
  while (g_deferred_count > 0) g_deferred[--g_deferred_count]->publish_now();
}

void forget_deferred_signal(DeferredSignal* signal) {
  for (int i = 0; i < g_deferred_count; ++i)
    if (g_deferred[i] == signal) g_deferred[i] = g_deferred[--g_deferred_count];
}

void yield_processor() { sched_yield(); }

void futex_wait(const void* word, std::uint32_t expected) {
  // EAGAIN (value already changed) and EINTR are both "look again".
  syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake_all(const void* word) { syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }

}  // namespace ipcatlas
