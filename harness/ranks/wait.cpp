#include "harness/ranks/wait.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "harness/base/error.hpp"

namespace ipcatlas {

std::string_view to_string(WaitPolicy policy) {
  switch (policy) {
    case WaitPolicy::spin: return "spin";
    case WaitPolicy::block: return "block";
    case WaitPolicy::adaptive: return "adaptive";
    case WaitPolicy::eventfd: return "eventfd";
  }
  return "?";
}

WaitPolicy parse_wait_policy(std::string_view text) {
  if (text == "spin") return WaitPolicy::spin;
  if (text == "block") return WaitPolicy::block;
  if (text == "adaptive") return WaitPolicy::adaptive;
  if (text == "eventfd") return WaitPolicy::eventfd;
  throw UsageError("invalid wait policy '" + std::string(text) + "' (expected spin, block, adaptive or eventfd)");
}

void yield_processor() { sched_yield(); }

void futex_wait(const void* word, std::uint32_t expected) {
  // EAGAIN (value already changed) and EINTR are both "look again".
  syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake_all(const void* word) { syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }

void eventfd_sleep(const EventfdFds& fds) {
  if (fds.my_epoll < 0 || fds.my_eventfd < 0) throw std::logic_error("an eventfd wait without the link's doorbells");
  epoll_event ready{};
  // EINTR (a signal, or a tracer's PTRACE_INTERRUPT: epoll_wait() is never
  // restarted) is a spurious wake: the caller looks again.
  const int n = epoll_wait(fds.my_epoll, &ready, 1, -1);
  if (n < 0 && errno != EINTR) throw SysError("epoll_wait on the link's eventfd", errno);
  if (n <= 0) return;
  // Non-blocking: EAGAIN when a ring was already drained.
  std::uint64_t rings = 0;
  if (read(fds.my_eventfd, &rings, sizeof rings) < 0 && errno != EAGAIN && errno != EINTR)
    throw SysError("read of the link's eventfd", errno);
}

void eventfd_ring(int peer_eventfd) {
  if (peer_eventfd < 0) throw std::logic_error("an eventfd wake without the link's doorbells");
  const std::uint64_t one = 1;
  // EAGAIN only if the counter were at its maximum (2^64 - 2): the peer is
  // awake then anyway. EINTR cannot interrupt a write that does not block.
  if (write(peer_eventfd, &one, sizeof one) < 0 && errno != EAGAIN)
    throw SysError("write to the peer's eventfd", errno);
}

}  // namespace ipcatlas
