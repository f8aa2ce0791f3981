#include "harness/wait.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "harness/error.hpp"

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

void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  // EAGAIN (value already changed) and EINTR are both "look again".
  syscall(SYS_futex, const_cast<std::atomic<std::uint32_t>*>(&word), FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, &word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace ipcatlas
