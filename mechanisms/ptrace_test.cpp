// The ptrace mechanism must never leave its tracee stopped or traced: not
// when a read fails half-way, and not when the tracer dies mid-read.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness/base/proc_files.hpp"
#include "mechanisms/registry.hpp"
#include "mechanisms/support/rendezvous.hpp"

namespace ipcatlas {
namespace {

// "State:" and "TracerPid:" of a process, from /proc/PID/status.
struct ProcessState {
  char state = '?';
  pid_t tracer = -1;
};

ProcessState state_of(pid_t pid) {
  ProcessState s;
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status").text;
  if (const std::string state = field_value(status, "State"); !state.empty()) s.state = state[0];
  if (const std::string tracer = field_value(status, "TracerPid"); !tracer.empty()) s.tracer = std::stoi(tracer);
  return s;
}

// Polls until `done` holds, for at most 2 s.
template <class Done>
bool eventually(Done done) {
  for (int i = 0; i < 200; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

pid_t fork_or_die() {
  const pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
  return pid;
}

void kill_and_reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(Ptrace, AFailedReadResumesTheTraceeAndNamesTheCause) {
  const Mechanism* ptrace_mechanism = find_mechanism("ptrace");
  ASSERT_NE(ptrace_mechanism, nullptr);
  if (!ptrace_mechanism->probe().available) GTEST_SKIP() << ptrace_mechanism->probe().reason;
  std::unique_ptr<Link> link = ptrace_mechanism->make_link({64, WaitPolicy::spin});
  int to_sender[2], to_test[2];
  ASSERT_EQ(pipe(to_sender), 0);
  ASSERT_EQ(pipe(to_test), 0);

  const pid_t sender = fork_or_die();
  if (sender == 0) {
    // Wait for the receiver's pid, then post an address that is not mapped.
    pid_t receiver = 0;
    if (read(to_sender[0], &receiver, sizeof receiver) != sizeof receiver) _exit(1);
    link->open(Side::a, receiver);
    link->send({reinterpret_cast<const std::byte*>(0x10), 64});  // waits forever: nobody consumes
    _exit(0);
  }
  const pid_t receiver = fork_or_die();
  if (receiver == 0) {
    link->open(Side::b, sender);
    std::byte buffer[64];
    std::string message = "no error";
    try {
      link->recv(buffer);
    } catch (const std::exception& e) {
      message = e.what();
    }
    [[maybe_unused]] ssize_t n = write(to_test[1], message.c_str(), message.size());
    pause();  // stay alive, and the sender's tracer
    _exit(0);
  }
  ASSERT_EQ(write(to_sender[1], &receiver, sizeof receiver), static_cast<ssize_t>(sizeof receiver));
  char text[512] = {};
  ASSERT_GT(read(to_test[0], text, sizeof text - 1), 0);
  EXPECT_NE(std::string(text).find("PTRACE_PEEKDATA"), std::string::npos) << text;

  // The receiver still traces the sender, but the sender runs.
  EXPECT_TRUE(eventually([&] { return state_of(sender).state == 'R' || state_of(sender).state == 'S'; }))
      << "state " << state_of(sender).state;
  EXPECT_EQ(state_of(sender).tracer, receiver);
  kill_and_reap(receiver);
  EXPECT_TRUE(eventually([&] { return state_of(sender).tracer == 0; })) << "still traced after the tracer died";
  kill_and_reap(sender);
  for (int fd : {to_sender[0], to_sender[1], to_test[0], to_test[1]}) close(fd);
}

TEST(Ptrace, ATracerThatDiesMidReadReleasesItsStoppedTracee) {
  const pid_t tracee = fork_or_die();
  if (tracee == 0) {
    for (;;) pause();
  }
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t tracer = fork_or_die();
  if (tracer == 0) {
    // Stop the tracee exactly as the mechanism does, then die holding it.
    if (ptrace(PTRACE_SEIZE, tracee, nullptr, nullptr) != 0) _exit(1);
    if (ptrace(PTRACE_INTERRUPT, tracee, nullptr, nullptr) != 0) _exit(2);
    int status;
    waitpid(tracee, &status, __WALL);
    const char stopped = 's';
    [[maybe_unused]] ssize_t n = write(ready[1], &stopped, 1);
    pause();
    _exit(0);
  }
  char got = 0;
  ASSERT_EQ(read(ready[0], &got, 1), 1);
  EXPECT_EQ(state_of(tracee).state, 't') << "the tracee should be in a ptrace stop";
  kill_and_reap(tracer);
  EXPECT_TRUE(eventually([&] { return state_of(tracee).state != 't' && state_of(tracee).tracer == 0; }))
      << "state " << state_of(tracee).state << ", tracer " << state_of(tracee).tracer;
  kill_and_reap(tracee);
  close(ready[0]);
  close(ready[1]);
}

// Which scenarios that rules out is the scenario layer's (scenarios/descriptor_test.cpp).
TEST(Ptrace, DeclaresOneTracerPerTraceeAndThatTheReceiverPulls) {
  const Mechanism* m = find_mechanism("ptrace");
  EXPECT_TRUE(m->one_tracer_per_tracee);
  EXPECT_EQ(m->moves, Moves::pull);
  EXPECT_EQ(m->default_size_cap, 64u * 1024);
}

}  // namespace
}  // namespace ipcatlas
