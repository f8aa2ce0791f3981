#include "mechanisms/support/sibling_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <vector>

#include "harness/base/child_tracking.hpp"
#include "mechanisms/support/peer_access.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kProbeBytes = 64;
constexpr auto kProbeTimeout = std::chrono::seconds(5);

// What the target tells the accessor once it has declared it.
struct TargetReady {
  pid_t pid;
  const void* buffer;
};

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

// 0, or the errno of pipe2. CLOEXEC: another thread of the caller may exec meanwhile.
int open_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
  return 0;
}

// Writes of at most PIPE_BUF bytes to a pipe are atomic: one call sends all or fails.
bool write_message(int fd, const void* data, std::size_t size) {
  ssize_t n;
  do n = ::write(fd, data, size);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(size);
}

// False at end of file: the writer died before sending.
bool read_message(int fd, void* data, std::size_t size) {
  ssize_t n;
  do n = ::read(fd, data, size);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(size);
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
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);  // the caller died before prctl took effect
      // As for ranks, the caller handles Ctrl-C for the group: its inherited handler must not run here.
      ::signal(SIGINT, SIG_IGN);
      ::signal(SIGHUP, SIG_IGN);
      ::signal(SIGTERM, SIG_DFL);
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
  if (!write_message(ready_fd, &ready, sizeof ready)) return;
  // The buffer must stay alive until the caller kills this process.
  for (;;) ::pause();
}

void run_accessor(const std::function<int(pid_t, const void*)>& attempt, int ready_fd, int result_fd) {
  TargetReady ready{};
  if (!read_message(ready_fd, &ready, sizeof ready)) return;  // the target died: the caller sees EIO
  const int result = attempt(ready.pid, ready.buffer);
  write_message(result_fd, &result, sizeof result);
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
    return read_message(result_fd, &result, sizeof result) ? result : EIO;
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
