#include "mechanisms/support/sibling_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <vector>

#include "harness/base/child_tracking.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/support/peer_environment.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kProbeBytes = 64;
constexpr auto kProbeTimeout = std::chrono::seconds(5);

// What the target tells the accessor once it has declared it.
struct TargetReady {
  pid_t pid;
  const void* buffer;
};

struct Pipe {
  Fd read, write;
};

// 0, or the errno of pipe2. CLOEXEC: another thread of the caller may exec meanwhile.
int open_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
  pipe.read = Fd(fds[0]);
  pipe.write = Fd(fds[1]);
  return 0;
}

// One record (TargetReady, a result) in one write: writes of at most PIPE_BUF
// bytes to a pipe are atomic, so a call sends all or fails. Unlike fd_io's
// write_message, it never throws and has no empty-message token: the probe's
// processes must not unwind into the caller's code, and a record is never empty.
template <class Record>
bool send_record(int fd, const Record& record) {
  static_assert(sizeof(Record) <= PIPE_BUF);
  ssize_t n;
  do n = ::write(fd, &record, sizeof record);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof record);
}

// The record send_record sent; false at end of file: the writer died before sending.
template <class Record>
bool receive_record(int fd, Record& record) {
  ssize_t n;
  do n = ::read(fd, &record, sizeof record);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof record);
}

// The probe's children, all SIGKILLed and then all reaped when this goes out
// of scope, so that no early return leaves one behind. Killing every one before
// reaping any matters: a traced zombie is reaped by its parent only once its
// tracer is gone, and the accessor may be tracing the target.
class ChildGroup {
 public:
  ChildGroup() = default;
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;
  ~ChildGroup() {
    for (const pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (const pid_t pid : pids_) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      untrack_child(pid);
    }
  }

  // Runs body() in a child that never returns into the caller's code: it dies
  // with the caller like a rank does, and leaves with _exit (no atexit handlers,
  // no flush of the caller's stdio buffers). A body that throws just exits.
  // Returns the child's pid, or -errno when fork fails.
  template <class Body>
  pid_t spawn(Body&& body) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
      become_dependent_child(parent);  // as ranks do: die with the caller, leave Ctrl-C to it
      try {
        body();
      } catch (...) {
      }
      ::_exit(0);
    }
    track_child(pid);
    pids_.push_back(pid);
    return pid;
  }

 private:
  std::vector<pid_t> pids_;
};

void run_target(pid_t accessor, int ready_fd) {
  unsigned char buffer[kProbeBytes];
  for (std::size_t i = 0; i < kProbeBytes; ++i) buffer[i] = static_cast<unsigned char>(i);
  allow_peer_access(accessor);
  const TargetReady ready{::getpid(), buffer};
  if (!send_record(ready_fd, ready)) return;
  // The buffer must stay alive until the caller kills this process.
  for (;;) ::pause();
}

void run_accessor(const std::function<int(pid_t, const void*)>& attempt, int ready_fd, int result_fd) {
  TargetReady ready{};
  if (!receive_record(ready_fd, ready)) return;  // the target died: the caller sees EIO
  const int result = attempt(ready.pid, ready.buffer);
  send_record(result_fd, result);
}

// The accessor's result; EIO when it died without one; ETIMEDOUT when it hangs.
int await_result(int result_fd) {
  const auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return ETIMEDOUT;
    pollfd ready{result_fd, POLLIN, 0};
    const int n = ::poll(&ready, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ETIMEDOUT;
    int result = 0;
    return receive_record(result_fd, result) ? result : EIO;
  }
}

}  // namespace

// The accessor is forked first so that the target learns its pid at birth and
// can declare it before telling it to start. Each process closes the pipe ends
// it does not use, so that a death reads as end of file on the other side.
SiblingResult try_sibling_access(const std::function<int(pid_t target, const void* target_buffer)>& attempt) {
  Pipe ready, result;
  if (const int err = open_pipe(ready)) return {err, "pipe2"};
  if (const int err = open_pipe(result)) return {err, "pipe2"};
  ChildGroup children;
  const pid_t accessor = children.spawn([&] {
    ready.write.reset();
    result.read.reset();
    run_accessor(attempt, ready.read.get(), result.write.get());
  });
  if (accessor < 0) return {-accessor, "fork"};
  ready.read.reset();
  result.write.reset();
  const pid_t target = children.spawn([&] {
    result.read.reset();
    run_target(accessor, ready.write.get());
  });
  if (target < 0) return {-target, "fork"};
  ready.write.reset();
  return {await_result(result.read.get()), ""};
}
}  // namespace ipcatlas
