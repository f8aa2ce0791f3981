// EventfdDoorbell between two forked processes, as between two ranks: the
// eventfds cross the socketpair, each side wakes the other through the
// peer's eventfd, and no descriptor outlives the doorbell.
#include "mechanisms/support/eventfd_doorbell.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "harness/machine/shared_memory.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

int open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

struct Words {
  std::atomic<std::uint32_t> to_child;  // the parent publishes 1 here
  std::atomic<std::uint32_t> sleepers[2];
};

Waiting waiting_of(Words& w, Side side, const EventfdDoorbell& doorbell) {
  const int me = index_of(side);
  return Waiting{WaitPolicy::eventfd, &w.sleepers[me], &w.sleepers[1 - me], doorbell.fds()};
}

// Child exit codes, one per failed check.
enum ChildFailure { kOk = 0, kFdsAfterOpen = 10, kFdsAfterClose = 11, kThrew = 12 };

// Side b: sleeps until the parent publishes, rings the parent's eventfd,
// and checks its descriptors on the way.
[[noreturn]] void child(std::optional<EventfdDoorbell>& doorbell, Words& words, int baseline) {
  try {
    doorbell->open(Side::b);
    // Both socket ends closed; its eventfd, its epoll set and the parent's eventfd open.
    if (open_fds() != baseline + 3) _exit(kFdsAfterOpen);
    const Waiting how = waiting_of(words, Side::b, *doorbell);
    wait_until(
        words.to_child, [](std::uint32_t v) { return v == 1; }, how);
    eventfd_ring(how.eventfd.peer_eventfd);
    doorbell.reset();
    _exit(open_fds() == baseline ? kOk : kFdsAfterClose);
  } catch (...) {
    _exit(kThrew);
  }
}

// The child's exit status, or -1 if it has not exited within 10 s (then it is killed).
int reap_within_10s(pid_t pid) {
  for (int i = 0; i < 10000; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

TEST(EventfdDoorbell, HoldsNothingUnlessThePolicyIsEventfd) {
  const int baseline = open_fds();
  EventfdDoorbell doorbell(WaitPolicy::block);
  doorbell.open(Side::a);
  EXPECT_EQ(open_fds(), baseline);
  EXPECT_EQ(doorbell.fds().my_epoll, -1);
  EXPECT_EQ(doorbell.fds().peer_eventfd, -1);
}

TEST(EventfdDoorbell, ExchangesEventfdsWakesThePeerAndLeaksNothing) {
  SharedMapping memory(sizeof(Words));
  Words& words = *memory.as<Words>();
  const int baseline = open_fds();
  std::optional<EventfdDoorbell> doorbell;
  doorbell.emplace(WaitPolicy::eventfd);
  EXPECT_EQ(open_fds(), baseline + 2);  // the socketpair
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) child(doorbell, words, baseline);

  doorbell->open(Side::a);
  EXPECT_EQ(open_fds(), baseline + 3);
  const Waiting how = waiting_of(words, Side::a, *doorbell);
  // Publish only once the child sleeps: the wake must come from our ring.
  for (int i = 0; i < 10000 && words.sleepers[1].load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // into epoll_wait()
  EXPECT_EQ(words.sleepers[1].load(), 1u) << "the child never went to sleep";
  publish(words.to_child, 1, how);
  // The child rings back on our eventfd.
  pollfd mine{how.eventfd.my_eventfd, POLLIN, 0};
  EXPECT_EQ(poll(&mine, 1, 10000), 1) << "the child's ring never reached this side's eventfd";
  EXPECT_EQ(reap_within_10s(pid), kOk) << "10: descriptors after open, 11: after close, 12: threw, -1: hung";
  doorbell.reset();
  EXPECT_EQ(open_fds(), baseline);
}

TEST(EventfdDoorbell, WaitingWithoutDoorbellsIsAnError) {
  std::atomic<std::uint32_t> word{0}, sleepers[2]{};
  const Waiting how{WaitPolicy::eventfd, &sleepers[0], &sleepers[1], {}};
  EXPECT_THROW(wait_until(
                   word, [](std::uint32_t v) { return v == 1; }, how),
               std::logic_error);
  sleepers[1] = 1;  // the peer "sleeps": publish must ring, and has nothing to ring
  EXPECT_THROW(publish(word, 1, how), std::logic_error);
}

}  // namespace
}  // namespace ipcatlas
