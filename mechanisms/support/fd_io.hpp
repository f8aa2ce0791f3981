// Whole-message I/O on byte streams (pipes, stream sockets), shared by the
// mechanisms that move bytes through file descriptors.
//
// A byte stream cannot carry an empty message, so a 0-byte message travels
// as a one-byte token that the receiver discards: its cost is the signal.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>

namespace ipcatlas {

// Writes all of msg (or the token for an empty one), retrying short writes
// and EINTR. Throws SysError naming `what`. Both calls may block in the
// kernel, so they make their system calls through blocking_call().
void write_message(int fd, std::span<const std::byte> msg, const char* what);
// Reads exactly into.size() bytes (or the token). Throws SysError, or
// std::runtime_error when the peer closed the stream.
void read_message(int fd, std::span<std::byte> into, const char* what);

// The scatter/gather forms: writev()/readv() of a message made of
// `segments`, in windows of at most IOV_MAX iovecs, retrying partial
// transfers and EINTR. An empty message is the token, as above.
void write_segments(int fd, std::span<const iovec> segments, const char* what);
void read_segments(int fd, std::span<const iovec> segments, const char* what);

struct Availability;
class Fd;
enum class Side : int;

// /proc/sys/fs/pipe-max-size, or 0 if unreadable.
long pipe_max_size();
// Creates a pipe (O_CLOEXEC) with its buffer raised with F_SETPIPE_SZ as far
// as allowed; returns the size it got. Throws SysError if pipe2 fails.
long make_big_pipe(Fd& read_end, Fd& write_end);

// The probe of a byte-stream mechanism: one byte through write_fd must come
// out of read_fd. `fix` is the advice given when it does not.
Availability probe_one_byte(int write_fd, int read_fd, const char* what, const char* fix);

// A file descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// A connected AF_UNIX socket pair of `type` (SOCK_STREAM, SOCK_SEQPACKET),
// close-on-exec. Throws SysError naming `what`.
void make_socket_pair(int type, const char* what, Fd& a, Fd& b);
// A socket option in bytes: SO_SNDBUF or SO_RCVBUF. Throws SysError.
int socket_buffer_bytes(int fd, int option);

// A pipe per direction of a link, raised with make_big_pipe(): pipe d carries
// the messages sent by side d. Created before fork; after fork each side
// keeps the write end of its own pipe and the read end of the peer's.
class PipePair {
 public:
  PipePair();
  void open(Side side);
  int out_fd() const { return out_fd_; }
  int in_fd() const { return in_fd_; }

 private:
  Fd read_[2], write_[2];
  int out_fd_ = -1, in_fd_ = -1;
};

}  // namespace ipcatlas
