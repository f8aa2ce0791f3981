// vmsplice: the sender vmsplice()s its buffer into a pipe, the receiver
// read()s it out. One pipe per direction, as in pipe.cpp.
//
// Why one copy: vmsplice() without SPLICE_F_GIFT copies nothing. It pins the
// sender's pages and fills the pipe's slots with references to them (page,
// offset, length). The receiver's read() then copies straight from the
// sender's pages into its own buffer: that is the only copy. (pipe.cpp's
// write() makes a second one, user buffer to pipe pages.)
//
// The contract that follows: until the receiver has read them, the pipe
// holds the sender's live pages, not a snapshot. Had the sender changed its
// buffer before then, the receiver would read the changed bytes. So send()
// returns only once the receiver has consumed the whole message:
//   send(): vmsplice() all of the message (a message larger than the pipe
//           blocks in vmsplice() until the reader drains it), post() through
//           the link's mailbox line, wait_all_consumed();
//   recv(): read() all of it, wait_posted(), consume(), and publish the
//           consume at once (see recv()).
// The price is that a send() always waits for the receiver, even for a
// message that fits in the pipe: there is no fire-and-forget as with pipe.
// vmsplice_test.cpp checks the contract by overwriting the buffer the moment
// send() returns.
//
// A 0-byte message travels as a one-byte token through write(), as in
// fd_io.hpp: vmsplice() cannot move 0 bytes, and the token is copied, so
// there is nothing for the sender to wait for.
//
// The pipe buffer is raised with F_SETPIPE_SZ to /proc/sys/fs/pipe-max-size,
// as in pipe.cpp, so that up to that size one vmsplice() call takes a whole
// message.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "harness/base/error.hpp"
#include "harness/base/resource_limits.hpp"
#include "mechanisms/support/access_causes.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/support/blocking_call.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/support/eventfd_doorbell.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "mechanisms/support/segments.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

// vmsplice()s all of msg into the pipe, retrying partial transfers and EINTR.
void vmsplice_all(int fd, std::span<const std::byte> msg) {
  const std::byte* p = msg.data();
  std::size_t left = msg.size();
  while (left > 0) {
    iovec iov{const_cast<std::byte*>(p), left};  // vmsplice only reads the pages
    // Blocks while the pipe is full, until the reader drains it.
    const ssize_t n = blocking_call([&] { return vmsplice(fd, &iov, 1, 0); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError("vmsplice", errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// The scatter/gather form: N iovecs a call (at most IOV_MAX), partial
// transfers resumed mid-segment.
void vmsplice_all(int fd, std::span<const iovec> segments) {
  for (SegmentCursor cursor(segments); !cursor.done();) {
    const std::span<const iovec> window = cursor.window();
    const ssize_t n = blocking_call([&] { return vmsplice(fd, window.data(), window.size(), 0); });
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SysError("vmsplice", errno);
    }
    cursor.advance(static_cast<std::size_t>(n));
  }
}

class VmspliceLink final : public Link {
 public:
  explicit VmspliceLink(const LinkConfig& config)
      : config_(config), memory_(sizeof(MailboxShared), config.numa_node), doorbell_(config.wait) {}

  void open(Side side, pid_t) override {
    pipes_.open(side);
    doorbell_.open(side);
    mailbox_ = MailboxEnd(memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
  }

  void send(std::span<const std::byte> msg) override {
    if (msg.empty()) {
      write_message(pipes_.out_fd(), msg, "vmsplice");
      return;
    }
    vmsplice_all(pipes_.out_fd(), msg);
    mailbox_.post();
    // The pipe still references msg's pages: they are ours again only once
    // the receiver has copied them out.
    mailbox_.wait_all_consumed();
  }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    read_message(pipes_.in_fd(), into, "vmsplice");
    if (!into.empty()) take_consumed();
    return into;
  }

  // As send() and recv(), with the sender's pages spliced from N iovecs and
  // the receiver's read() a readv() into its segments.
  void send_segments(std::span<const iovec> segments) override {
    if (total_bytes(segments) == 0) return write_message(pipes_.out_fd(), {}, "vmsplice");
    vmsplice_all(pipes_.out_fd(), segments);
    mailbox_.post();
    mailbox_.wait_all_consumed();
  }

  void recv_segments(std::span<const iovec> segments) override {
    read_segments(pipes_.in_fd(), segments, "vmsplice");
    if (total_bytes(segments) != 0) take_consumed();
  }

 private:
  void take_consumed() {
    mailbox_.wait_posted();
    mailbox_.consume();
    // Published at once, not deferred to our next post: the sender's send()
    // cannot return before it sees this, and our next call on the link starts
    // with a system call that may block (read(), or vmsplice() of a message
    // larger than the pipe), not with a post that could carry it.
    mailbox_.publish_now();
  }

  LinkConfig config_;
  SharedMapping memory_;
  // --wait eventfd, which run skips for vmsplice (its receiver waits in
  // read()), but a link made with it must still work.
  EventfdDoorbell doorbell_;
  MailboxEnd mailbox_;
  PipePair pipes_;
};

// Does not throw: every failure becomes the Availability that explains it.
Availability probe_vmsplice() {
  try {
    int fds[2];
    // Non-blocking, so that the probe can never hang.
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
      return probe_error(SysError("pipe2", errno),
                         "a seccomp filter or resource limit blocks pipes; check ulimit -n and the container's "
                         "seccomp profile");
    Fd r(fds[0]), w(fds[1]);
    std::byte out{0x5a};
    iovec iov{&out, 1};
    ssize_t n;
    do n = vmsplice(w.get(), &iov, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return explain_errno("vmsplice");
    if (n != 1) return Availability::no("vmsplice moved " + std::to_string(n) + " bytes of 1", "");
    std::byte in{0};
    do n = read(r.get(), &in, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) return explain_errno("read after vmsplice");
    if (n != 1 || in != out)
      return Availability::no("vmsplice probe: the byte spliced into the pipe did not come out of it",
                              "the kernel's vmsplice() is broken here; report the kernel version");
  } catch (const std::exception& e) {
    return Availability::no(std::string("vmsplice probe: ") + e.what(), "");
  }
  return Availability::yes();
}

std::map<std::string, std::string> vmsplice_context() {
  Fd r, w;
  try {
    return {{"vmsplice_pipe_size_bytes", std::to_string(make_big_pipe(r, w))},
            {"vmsplice_pipe_max_size", std::to_string(pipe_max_size())}};
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

extern const Mechanism kVmspliceMechanism{
    .id = "vmsplice",
    .summary = "vmsplice() of the sender's pages into a pipe per direction, read() by the receiver; send waits until "
               "they are read",
    .api = "vmsplice",
    // vmsplice() only pins the sender's pages and queues references to them;
    // the one copy is the receiver's read() out of those pages.
    .moves = Moves::pull,
    .copies = 1,
    .copies_note = "the receiver's read() from the sender's pinned pages",
    .single_copy = true,  // MPICH's nemesis LMT had a vmsplice path
    .permissions = "",
    // The sender's wait for the receiver follows the policy (the mailbox
    // line), but the receiver waits for data in read(), in the kernel.
    .wait_policies = kKernelBlocksOnly,
    .probe = probe_vmsplice,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<VmspliceLink>(c); },
    .context = vmsplice_context,
    .default_size_cap = 0,
};

}  // namespace ipcatlas
