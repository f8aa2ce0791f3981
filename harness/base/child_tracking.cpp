#include "harness/base/child_tracking.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

namespace ipcatlas {
namespace {

// A fixed table: the signal handler may only touch lock-free atomics.
constexpr int kSlots = 256;
std::atomic<pid_t> g_children[kSlots];

void on_interrupt(int sig) {
  for (auto& slot : g_children) {
    const pid_t pid = slot.load();
    if (pid > 0) kill(pid, SIGKILL);
  }
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  char line[128] = "\nipcatlas: interrupted by ";
  strcat(line, name);
  strcat(line, "; ranks killed, no results written\n");
  [[maybe_unused]] ssize_t n = write(STDERR_FILENO, line, strlen(line));
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // nohup ignores SIGHUP, and a shell ignores SIGINT in background jobs, so
    // that the run survives a closed terminal: an inherited SIG_IGN stays.
    struct sigaction inherited {};
    if (sigaction(sig, nullptr, &inherited) == 0 && inherited.sa_handler == SIG_IGN) continue;
    sigaction(sig, &sa, nullptr);
  }
}

void track_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void untrack_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void become_dependent_child(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);  // the parent died before prctl took effect
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGTERM, SIG_DFL);
}

}  // namespace ipcatlas
