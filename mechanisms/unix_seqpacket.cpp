// unix-seqpacket: send() / recv() on a connected AF_UNIX SOCK_SEQPACKET
// socket pair. Two copies (user to socket buffer, buffer to user). One socket
// pair carries both directions. Socket buffers keep the kernel's defaults, as
// in unix_stream.cpp.
//
// Each send() is one record, and the kernel refuses (EMSGSIZE) a record
// larger than the send buffer (SO_SNDBUF minus a few bytes). A message is
// therefore cut into records of `chunk` bytes, the last one shorter; the
// receiver knows the message's size, so it knows the length of every record
// and checks each one: a record of another length means the two ranks
// disagree about the messages, and recv() says so instead of delivering a
// mix. A 0-byte message is one empty record (SEQPACKET carries those; no
// token needed).
//
// The chunk is half of SO_SNDBUF, rounded down to a multiple of 4096 (at
// least 4096): the send buffer charges each queued record its payload plus
// the socket buffer's overhead, so a record of nearly SO_SNDBUF would leave
// no room for the next one, and every record would wait until the receiver
// has copied out the previous one (the kernel lets a record in while the
// charge is below SO_SNDBUF). With half, the sender copies record k+1 in
// while the receiver copies record k out. Whole pages, so that the records of
// a page-aligned message start page-aligned too.
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "mechanisms/support/access_causes.hpp"
#include "mechanisms/support/blocking_call.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/support/segments.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

constexpr const char* kSocketPair = "socketpair(AF_UNIX, SOCK_SEQPACKET)";
constexpr std::size_t kPage = 4096;

void make_socket_pair(Fd& a, Fd& b) { ipcatlas::make_socket_pair(SOCK_SEQPACKET, kSocketPair, a, b); }
int send_buffer_bytes(int fd) { return socket_buffer_bytes(fd, SO_SNDBUF); }

// See the header comment.
std::size_t chunk_for(int sndbuf) {
  const std::size_t half = sndbuf > 0 ? static_cast<std::size_t>(sndbuf) / 2 : 0;
  const std::size_t chunk = half / kPage * kPage;
  return chunk < kPage ? kPage : chunk;
}

// Sends one record, retrying EINTR. A record is all or nothing: a short send
// cannot be completed (the rest would become a record of its own), so it is
// an error.
void send_record(int fd, const std::byte* p, std::size_t len) {
  for (;;) {
    const ssize_t n = blocking_call([&] { return ::send(fd, p, len, MSG_NOSIGNAL); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(fmt::format("unix-seqpacket: send of a {}-byte record", len), errno);
    }
    if (static_cast<std::size_t>(n) != len)
      throw std::runtime_error(fmt::format("unix-seqpacket: send took {} bytes of a {}-byte record", n, len));
    return;
  }
}

// Receives one record into [p, p + len) and returns its real length
// (MSG_TRUNC: the length of the record even if longer than len).
std::size_t recv_record(int fd, std::byte* p, std::size_t len) {
  for (;;) {
    const ssize_t n = blocking_call([&] { return ::recv(fd, p, len, MSG_TRUNC); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError("unix-seqpacket: recv", errno);
    }
    return static_cast<std::size_t>(n);
  }
}

// The scatter/gather forms of send_record / recv_record: one record made of `window`.
std::size_t send_record(int fd, std::span<const iovec> window) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(window.data());
  msg.msg_iovlen = window.size();
  const std::size_t len = total_bytes(window);
  for (;;) {
    const ssize_t n = blocking_call([&] { return ::sendmsg(fd, &msg, MSG_NOSIGNAL); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError(fmt::format("unix-seqpacket: sendmsg of a {}-byte record", len), errno);
    }
    if (static_cast<std::size_t>(n) != len)
      throw std::runtime_error(fmt::format("unix-seqpacket: sendmsg took {} bytes of a {}-byte record", n, len));
    return len;
  }
}

std::size_t recv_record(int fd, std::span<const iovec> window) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(window.data());
  msg.msg_iovlen = window.size();
  for (;;) {
    const ssize_t n = blocking_call([&] { return ::recvmsg(fd, &msg, MSG_TRUNC); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError("unix-seqpacket: recvmsg", errno);
    }
    return static_cast<std::size_t>(n);
  }
}

class UnixSeqpacketLink final : public Link {
 public:
  explicit UnixSeqpacketLink(const LinkConfig&) {
    make_socket_pair(ends_[0], ends_[1]);
    chunk_ = chunk_for(send_buffer_bytes(ends_[0].get()));
  }

  void open(Side side, pid_t) override {
    ends_[index_of(other(side))].reset();
    fd_ = ends_[index_of(side)].get();
  }

  void send(std::span<const std::byte> msg) override {
    if (msg.empty()) {
      send_record(fd_, msg.data(), 0);
      return;
    }
    for (std::size_t done = 0; done < msg.size(); done += chunk_)
      send_record(fd_, msg.data() + done, std::min(chunk_, msg.size() - done));
  }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    std::size_t done = 0, record = 0;
    do {
      const std::size_t want = std::min(chunk_, into.size() - done);
      const std::size_t got = recv_record(fd_, into.data() + done, want);
      if (got != want) {
        // recv returns 0 both for an empty record and when the peer has closed.
        const std::string cause = got == 0 ? " (an empty record, or the peer closed the socket)" : "";
        throw std::runtime_error(fmt::format("unix-seqpacket: record {} of a {}-byte message has {} bytes, expected "
                                             "{} (records of {} bytes){}",
                                             record, into.size(), got, want, chunk_, cause));
      }
      done += want;
      ++record;
    } while (done < into.size());
    return into;
  }

  // Scatter/gather: one sendmsg() per record, its iovecs the segments'
  // pieces; a record ends at a chunk or after kIovMax pieces (a record
  // cannot span two calls). The receiver cuts its records by the same rule,
  // so its segments must be laid out like the sender's (PeerChannel's are);
  // a record of another length is reported, as above.
  void send_segments(std::span<const iovec> segments) override {
    SegmentCursor cursor(segments);
    if (cursor.done()) return send_record(fd_, nullptr, 0);
    while (!cursor.done()) {
      const std::span<const iovec> window = cursor.window(chunk_);
      cursor.advance(send_record(fd_, window));
    }
  }

  void recv_segments(std::span<const iovec> segments) override {
    SegmentCursor cursor(segments);
    if (cursor.done()) return check_record(0, 0, recv_record(fd_, nullptr, 0), 0);
    for (std::size_t record = 0; !cursor.done(); ++record) {
      const std::span<const iovec> window = cursor.window(chunk_);
      const std::size_t want = total_bytes(window);
      check_record(record, total_bytes(segments), recv_record(fd_, window), want);
      cursor.advance(want);
    }
  }

 private:
  void check_record(std::size_t record, std::size_t message, std::size_t got, std::size_t want) const {
    if (got == want) return;
    // recv returns 0 both for an empty record and when the peer has closed.
    const std::string cause = got == 0 ? " (an empty record, or the peer closed the socket)" : "";
    throw std::runtime_error(fmt::format("unix-seqpacket: record {} of a {}-byte message has {} bytes, expected "
                                         "{} (records of {} bytes){}",
                                         record, message, got, want, chunk_, cause));
  }

  Fd ends_[2];
  int fd_ = -1;
  std::size_t chunk_ = kPage;
};

Availability probe_unix_seqpacket() {
  try {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return explain_errno(kSocketPair);
    Fd a(fds[0]), b(fds[1]);
    const std::byte out[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
    ssize_t n;
    do n = ::send(a.get(), out, sizeof(out), MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) return explain_errno(std::string("send on ") + kSocketPair);
    std::byte in[8] = {};
    do n = ::recv(b.get(), in, sizeof(in), MSG_DONTWAIT);  // never hangs
    while (n < 0 && errno == EINTR);
    if (n < 0) return explain_errno(std::string("recv on ") + kSocketPair);
    if (n != 3 || in[0] != out[0] || in[1] != out[1] || in[2] != out[2])
      return Availability::no(fmt::format("unix-seqpacket probe: a 3-byte record came back as {} bytes", n),
                              "the kernel's AF_UNIX SOCK_SEQPACKET is broken here; report the kernel version");
  } catch (const std::exception& e) {
    return Availability::no(std::string("unix-seqpacket probe: ") + e.what(), "");
  }
  return Availability::yes();
}

std::map<std::string, std::string> unix_seqpacket_context() {
  Fd a, b;
  try {
    make_socket_pair(a, b);
    const int sndbuf = send_buffer_bytes(a.get());
    return {{"seqpacket_chunk_bytes", std::to_string(chunk_for(sndbuf))},
            {"seqpacket_sndbuf_bytes", std::to_string(sndbuf)}};
  } catch (const std::exception&) {
    return {};
  }
}

// One record is queued without the receiver: a message of one chunk.
std::size_t unix_seqpacket_bidirectional_limit() {
  Fd a, b;
  try {
    make_socket_pair(a, b);
    return chunk_for(send_buffer_bytes(a.get()));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

extern const Mechanism kUnixSeqpacketMechanism{
    .id = "unix-seqpacket",
    .summary = "send() / recv() on an AF_UNIX SOCK_SEQPACKET socket pair, one record per chunk of half SO_SNDBUF",
    .api = "AF_UNIX SOCK_SEQPACKET",
    .moves = Moves::both,
    .copies = 2,
    .copies_note = "",
    .single_copy = false,
    .permissions = "",
    .wait_policies = kKernelBlocksOnly,  // ranks wait in send() and recv()
    .probe = probe_unix_seqpacket,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<UnixSeqpacketLink>(c); },
    .context = unix_seqpacket_context,
    .default_size_cap = 0,
    .bidirectional_limit = unix_seqpacket_bidirectional_limit,
};

}  // namespace ipcatlas
