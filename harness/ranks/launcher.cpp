#include "harness/ranks/launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "harness/base/child_tracking.hpp"
#include "harness/base/clock.hpp"
#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"

namespace ipcatlas {

// Lives in shared memory, zero-initialised by mmap.
struct ControlBlock {
  enum Op : std::uint32_t { kNone = 0, kRunBatch = 1, kQuit = 2 };

  // Driver -> ranks. Ranks sleep on command_seq between batches.
  alignas(64) std::atomic<std::uint32_t> command_seq;
  std::atomic<std::uint32_t> command_sleepers;
  std::uint32_t op;
  Batch batch;

  // Among ranks.
  alignas(64) std::atomic<std::uint32_t> barrier_arrived;
  alignas(64) std::atomic<std::uint32_t> barrier_generation;
  std::atomic<std::uint32_t> barrier_sleepers;

  // Per rank, written by the driver (pid) or by the rank (the rest).
  struct Slot {
    pid_t pid;
    int cpu_seen;
    char error[1024];
  };
  Slot slots[kMaxRanks];
};

namespace {

// Tokens a rank writes into its notification pipe.
constexpr char kReady = 'R';
constexpr char kDone = 'D';
constexpr char kError = 'E';
constexpr int kExitRankError = 3;

void notify(int fd, char token) {
  while (write(fd, &token, 1) < 0 && errno == EINTR) {
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} (SIG{}){}", WTERMSIG(status), sigabbrev_np(WTERMSIG(status)),
                       WCOREDUMP(status) ? ", core dumped" : "");
  return fmt::format("changed state (wait status 0x{:x})", status);
}

// "S (sleeping) in futex_wait_queue" from /proc, for hang reports.
std::string process_state(pid_t pid) {
  const FileRead stat = read_first_line(fmt::format("/proc/{}/stat", pid));
  if (!stat.ok() || stat.text.empty()) return "gone";
  const std::string& line = stat.text;
  const auto close = line.rfind(')');
  const char state = close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
  const std::string wchan = read_first_line(fmt::format("/proc/{}/wchan", pid)).text;
  std::string what = state == 'R'   ? "running"
                     : state == 'S' ? "sleeping"
                     : state == 'D' ? "disk sleep"
                     : state == 't' ? "stopped by a tracer"
                     : state == 'T' ? "stopped"
                                    : std::string(1, state);
  return fmt::format("{} ({}){}", state, what, wchan.empty() || wchan == "0" ? "" : (" in " + wchan));
}

}  // namespace

pid_t RankEnv::pid_of(int rank) const { return control_.slots[rank].pid; }

void RankEnv::barrier() {
  // The barrier is not a link: it has no eventfd doorbells, so under --wait
  // eventfd it blocks in a futex (control_wait_policy()).
  const Waiting how{control_wait_policy(wait_), &control_.barrier_sleepers, &control_.barrier_sleepers, {}};
  const std::uint32_t generation = control_.barrier_generation.load(std::memory_order_acquire);
  if (control_.barrier_arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<std::uint32_t>(size_)) {
    control_.barrier_arrived.store(0, std::memory_order_relaxed);
    publish(control_.barrier_generation, generation + 1, how);
  } else {
    wait_until(
        control_.barrier_generation, [&](std::uint32_t g) { return g != generation; }, how);
  }
}

RankGroup::RankGroup(const Topology& topology, GroupPlan plan, RankProgramFactory make_program)
    : plan_(std::move(plan)), control_memory_(sizeof(ControlBlock)) {
  control_ = control_memory_.as<ControlBlock>();
  const int n = static_cast<int>(plan_.cpus.size());
  if (n < 1 || n > kMaxRanks) throw UsageError(fmt::format("rank count {} is outside 1..{}", n, kMaxRanks));

  // All pipes exist before the first fork so that each child can close the
  // ends that are not its own; otherwise a sibling's copy of a write end
  // would hide a rank's death from the driver.
  std::vector<int> write_fds;
  for (int r = 0; r < n; ++r) {
    int fds[2];
    check_sys(pipe2(fds, O_CLOEXEC), "pipe2 for rank notifications");
    notify_fds_.push_back(fds[0]);
    write_fds.push_back(fds[1]);
  }

  install_interrupt_handlers();
  std::fflush(nullptr);  // a child must not flush the driver's buffered output a second time
  const pid_t driver = getpid();
  for (int r = 0; r < n; ++r) {
    const pid_t pid = fork();
    if (pid < 0) {
      const int err = errno;
      for (int fd : write_fds) close(fd);
      kill_and_reap();
      throw RankFailure(fmt::format("cannot fork rank {}: {}", r, errno_name(err)));
    }
    if (pid == 0) {
      for (int fd : notify_fds_) close(fd);
      for (int other = 0; other < n; ++other)
        if (other != r) close(write_fds[static_cast<std::size_t>(other)]);
      rank_main(r, topology, make_program, driver, write_fds[static_cast<std::size_t>(r)]);
    }
    track_child(pid);
    pids_.push_back(pid);
    control_->slots[r].pid = pid;
  }
  for (int fd : write_fds) close(fd);
  alive_ = true;

  // Ranks wait for every pid to be published before they set up (peers need them).
  control_->command_seq.store(1, std::memory_order_release);
  futex_wake_all(&control_->command_seq);
  await_all(kReady, plan_.watchdog_seconds, "starting");
}

RankGroup::~RankGroup() {
  if (!alive_) return;
  post(ControlBlock::kQuit, Batch{});
  // Give the ranks a moment to exit on their own; then force them.
  const std::uint64_t deadline = now_ns() + 2'000'000'000ull;
  for (std::size_t r = 0; r < pids_.size(); ++r) {
    int status;
    while (waitpid(pids_[r], &status, WNOHANG) == 0 && now_ns() < deadline) usleep(1000);
  }
  kill_and_reap();
}

void RankGroup::kill_and_reap() {
  for (pid_t pid : pids_) kill(pid, SIGKILL);
  for (pid_t pid : pids_) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }  // ECHILD: already reaped by reap_dead_rank()
    untrack_child(pid);
  }
  for (int fd : notify_fds_) close(fd);
  notify_fds_.clear();
  pids_.clear();
  alive_ = false;
}

// The wait status of a rank whose pipe closed. Its siblings are killed
// first: if one of them traces it (the ptrace mechanism), the kernel reports
// its death to the tracer, and the driver could wait for the tracer forever.
int RankGroup::reap_dead_rank(int rank) {
  for (int other = 0; other < size(); ++other)
    if (other != rank) kill(pids_[static_cast<std::size_t>(other)], SIGKILL);
  int status = 0;
  while (waitpid(pids_[static_cast<std::size_t>(rank)], &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

void RankGroup::fail(const std::string& message) {
  kill_and_reap();
  throw RankFailure(message);
}

void RankGroup::post(std::uint32_t op, const Batch& batch) {
  control_->op = op;
  control_->batch = batch;
  control_->command_seq.fetch_add(1, std::memory_order_release);
  futex_wake_all(&control_->command_seq);
}

void RankGroup::run(const Batch& batch, double expected_seconds) {
  if (!alive_) throw RankFailure("the ranks of this benchmark are no longer running");
  post(ControlBlock::kRunBatch, batch);
  await_all(kDone, plan_.watchdog_seconds + 2 * expected_seconds,
            fmt::format("running batch {} ({} iterations)", batch.index, batch.iterations));
}

std::string RankGroup::describe_rank(int rank) const {
  return fmt::format("rank {} (pid {}, PU {})", rank, pids_[static_cast<std::size_t>(rank)],
                     plan_.cpus[static_cast<std::size_t>(rank)]);
}

void RankGroup::await_all(char token, double timeout_seconds, const std::string& doing) {
  const int n = size();
  std::vector<bool> arrived(static_cast<std::size_t>(n), false);
  int remaining = n;
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_seconds * 1e9);
  while (remaining > 0) {
    std::vector<pollfd> fds;
    for (int fd : notify_fds_) fds.push_back({fd, POLLIN, 0});
    const std::uint64_t now = now_ns();
    const int timeout_ms =
        now >= deadline ? 0 : static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 1 << 30));
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) fail(fmt::format("poll on rank pipes: {}", errno_name(errno)));
    if (ready == 0) {
      std::string states;
      for (int r = 0; r < n; ++r)
        if (!arrived[static_cast<std::size_t>(r)])
          states += "; " + describe_rank(r) + " is " + process_state(pids_[static_cast<std::size_t>(r)]);
      fail(
          fmt::format("hung: no progress after {:.1f} s while {}{}; all ranks killed", timeout_seconds, doing, states));
    }
    for (int r = 0; r < n; ++r) {
      if (fds[static_cast<std::size_t>(r)].revents == 0) continue;
      char got = 0;
      const ssize_t len = read(notify_fds_[static_cast<std::size_t>(r)], &got, 1);
      if (len == 1 && got == token && !arrived[static_cast<std::size_t>(r)]) {
        arrived[static_cast<std::size_t>(r)] = true;
        --remaining;
      } else if (len == 1 && got == kError) {
        std::string message(control_->slots[r].error,
                            strnlen(control_->slots[r].error, sizeof control_->slots[r].error));
        fail(describe_rank(r) + ": " + message);
      } else if (len == 0 || (len < 0 && errno != EINTR && errno != EAGAIN)) {
        fail(fmt::format("{} {} while {}", describe_rank(r), describe_status(reap_dead_rank(r)), doing));
      }
    }
  }
}

void RankGroup::rank_main(int rank, const Topology& topology, RankProgramFactory& make_program, pid_t driver,
                          int notify_fd) {
  ControlBlock::Slot& slot = control_->slots[rank];
  try {
    // Die with the driver, even if it is SIGKILLed; the driver handles Ctrl-C for the whole group.
    become_dependent_child(driver);
    signal(SIGPIPE, SIG_DFL);  // the driver may ignore it (see run_run_command)

    const int cpu = plan_.cpus[static_cast<std::size_t>(rank)];
    pin_this_process(topology, cpu);
    slot.cpu_seen = current_pu(topology);

    // Wait until the driver has published every pid.
    const Waiting sleep_between{WaitPolicy::block, &control_->command_sleepers, &control_->command_sleepers, {}};
    std::uint32_t seen = wait_until(
        control_->command_seq, [](std::uint32_t v) { return v != 0; }, sleep_between);

    RankEnv env(*control_, topology, rank, size(), plan_.wait);
    std::unique_ptr<RankProgram> program = make_program(rank);
    program->setup(env);
    notify(notify_fd, kReady);
    for (;;) {
      seen = wait_until(
          control_->command_seq, [&](std::uint32_t v) { return v != seen; }, sleep_between);
      if (control_->op == ControlBlock::kQuit) _exit(0);
      program->run_batch(env, control_->batch);
      notify(notify_fd, kDone);
    }
  } catch (const std::exception& e) {
    std::snprintf(slot.error, sizeof slot.error, "%s", e.what());
  } catch (...) {
    std::snprintf(slot.error, sizeof slot.error, "unknown exception");
  }
  notify(notify_fd, kError);
  _exit(kExitRankError);
}

}  // namespace ipcatlas
