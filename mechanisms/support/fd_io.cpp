#include "mechanisms/support/fd_io.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <stdexcept>
#include <string>

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"
#include "harness/base/resource_limits.hpp"
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/blocking_call.hpp"
#include "mechanisms/support/segments.hpp"

namespace ipcatlas {

long pipe_max_size() {
  const FileRead file = read_first_line("/proc/sys/fs/pipe-max-size");
  long size = 0;
  const auto [end, ec] = std::from_chars(file.text.data(), file.text.data() + file.text.size(), size);
  return file.ok() && ec == std::errc{} ? size : 0;
}

long make_big_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  check_sys(pipe2(fds, O_CLOEXEC), "pipe2");
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  const long wanted = pipe_max_size();
  const long got = wanted > 0 ? fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(wanted)) : -1;
  // Unprivileged users over fs.pipe-user-pages-soft keep the default; that is not an error.
  return got > 0 ? got : fcntl(fds[1], F_GETPIPE_SZ);
}

void write_message(int fd, std::span<const std::byte> msg, const char* what) {
  static const std::byte token{0x5a};
  const std::byte* p = msg.empty() ? &token : msg.data();
  std::size_t left = msg.empty() ? 1 : msg.size();
  while (left > 0) {
    const ssize_t n = blocking_call([&] { return write(fd, p, left); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(std::string(what) + ": write", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void read_message(int fd, std::span<std::byte> into, const char* what) {
  std::byte token;
  std::byte* p = into.empty() ? &token : into.data();
  std::size_t left = into.empty() ? 1 : into.size();
  while (left > 0) {
    const ssize_t n = blocking_call([&] { return read(fd, p, left); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(std::string(what) + ": read", errno);
    }
    if (n == 0) throw std::runtime_error(std::string(what) + ": the peer closed the stream");
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void write_segments(int fd, std::span<const iovec> segments, const char* what) {
  SegmentCursor cursor(segments);
  if (cursor.done()) return write_message(fd, {}, what);
  while (!cursor.done()) {
    const std::span<const iovec> window = cursor.window();
    const ssize_t n = blocking_call([&] { return writev(fd, window.data(), static_cast<int>(window.size())); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(std::string(what) + ": writev", errno);
    }
    cursor.advance(static_cast<std::size_t>(n));
  }
}

void read_segments(int fd, std::span<const iovec> segments, const char* what) {
  SegmentCursor cursor(segments);
  if (cursor.done()) return read_message(fd, {}, what);
  while (!cursor.done()) {
    const std::span<const iovec> window = cursor.window();
    const ssize_t n = blocking_call([&] { return readv(fd, window.data(), static_cast<int>(window.size())); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(std::string(what) + ": readv", errno);
    }
    if (n == 0) throw std::runtime_error(std::string(what) + ": the peer closed the stream");
    cursor.advance(static_cast<std::size_t>(n));
  }
}

Availability probe_one_byte(int write_fd, int read_fd, const char* what, const char* fix) {
  try {
    const std::byte out{1};
    write_message(write_fd, {&out, 1}, what);
    std::byte in;
    read_message(read_fd, {&in, 1}, what);
  } catch (const std::exception& e) {
    return probe_error(e, fix);
  }
  return Availability::yes();
}

void make_socket_pair(int type, const char* what, Fd& a, Fd& b) {
  int fds[2];
  check_sys(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), what);
  a = Fd(fds[0]);
  b = Fd(fds[1]);
}

int socket_buffer_bytes(int fd, int option) {
  int bytes = 0;
  socklen_t len = sizeof bytes;
  check_sys(getsockopt(fd, SOL_SOCKET, option, &bytes, &len),
            option == SO_SNDBUF ? "getsockopt(SO_SNDBUF)" : "getsockopt(SO_RCVBUF)");
  return bytes;
}

PipePair::PipePair() {
  for (int d = 0; d < 2; ++d) make_big_pipe(read_[d], write_[d]);
}

void PipePair::open(Side side) {
  const int out = index_of(side), in = index_of(other(side));
  read_[out].reset();
  write_[in].reset();
  out_fd_ = write_[out].get();
  in_fd_ = read_[in].get();
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

void Fd::reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace ipcatlas
