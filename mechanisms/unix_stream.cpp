// unix-stream: send() / recv() on a connected AF_UNIX SOCK_STREAM socket
// pair. Two copies (user to socket buffer, buffer to user). One socket pair
// carries both directions. Socket buffers keep the kernel's defaults
// (net.core.wmem_default), as an application that does not tune them gets.
#include <sys/socket.h>

#include "harness/base/error.hpp"
#include "harness/base/resource_limits.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

void make_socket_pair(Fd& a, Fd& b) {
  ipcatlas::make_socket_pair(SOCK_STREAM, "socketpair(AF_UNIX, SOCK_STREAM)", a, b);
}

class UnixStreamLink final : public Link {
 public:
  explicit UnixStreamLink(const LinkConfig&) { make_socket_pair(ends_[0], ends_[1]); }

  void open(Side side, pid_t) override {
    ends_[index_of(other(side))].reset();
    fd_ = ends_[index_of(side)].get();
  }

  void send(std::span<const std::byte> msg) override { write_message(fd_, msg, "unix-stream"); }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    read_message(fd_, into, "unix-stream");
    return into;
  }
  void send_segments(std::span<const iovec> segments) override { write_segments(fd_, segments, "unix-stream"); }
  void recv_segments(std::span<const iovec> segments) override { read_segments(fd_, segments, "unix-stream"); }

 private:
  Fd ends_[2];
  int fd_ = -1;
};

constexpr const char* kUnixFix =
    "a seccomp filter or LSM policy blocks AF_UNIX sockets; check the container's seccomp profile and AppArmor/SELinux "
    "rules";

Availability probe_unix_stream() {
  Fd a, b;
  try {
    make_socket_pair(a, b);
  } catch (const std::exception& e) {
    return probe_error(e, kUnixFix);
  }
  return probe_one_byte(a.get(), b.get(), "unix-stream probe", kUnixFix);
}

std::map<std::string, std::string> unix_stream_context() {
  Fd a, b;
  try {
    make_socket_pair(a, b);
    return {{"unix_sndbuf_bytes", std::to_string(socket_buffer_bytes(a.get(), SO_SNDBUF))},
            {"unix_rcvbuf_bytes", std::to_string(socket_buffer_bytes(a.get(), SO_RCVBUF))}};
  } catch (const std::exception&) {
    return {};
  }
}

// A send completes while the data fits the socket's send buffer; half of it,
// since the kernel also charges per-packet overhead to the buffer.
std::size_t unix_stream_bidirectional_limit() {
  Fd a, b;
  try {
    make_socket_pair(a, b);
    const int sndbuf = socket_buffer_bytes(a.get(), SO_SNDBUF);
    return sndbuf > 0 ? static_cast<std::size_t>(sndbuf) / 2 : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

extern const Mechanism kUnixStreamMechanism{
    .id = "unix-stream",
    .summary = "send() / recv() on an AF_UNIX SOCK_STREAM socket pair",
    .api = "AF_UNIX SOCK_STREAM",
    .moves = Moves::both,
    .copies = 2,
    .copies_note = "",
    .single_copy = false,
    .permissions = "",
    .wait_policies = kKernelBlocksOnly,  // ranks wait in read() and write()
    .probe = probe_unix_stream,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<UnixStreamLink>(c); },
    .context = unix_stream_context,
    .bidirectional_limit = unix_stream_bidirectional_limit,
};

}  // namespace ipcatlas
