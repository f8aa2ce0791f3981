// pipe: write() into a pipe, read() out of it. Two copies: user to pipe
// buffer, pipe buffer to user. One pipe per direction.
//
// The pipe buffer is raised with F_SETPIPE_SZ to /proc/sys/fs/pipe-max-size,
// so that up to that size a send completes without waiting for the reader.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "harness/base/error.hpp"
#include "harness/base/resource_limits.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

class PipeLink final : public Link {
 public:
  explicit PipeLink(const LinkConfig&) {}

  void open(Side side, pid_t) override { pipes_.open(side); }

  void send(std::span<const std::byte> msg) override { write_message(pipes_.out_fd(), msg, "pipe"); }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    read_message(pipes_.in_fd(), into, "pipe");
    return into;
  }
  void send_segments(std::span<const iovec> segments) override { write_segments(pipes_.out_fd(), segments, "pipe"); }
  void recv_segments(std::span<const iovec> segments) override { read_segments(pipes_.in_fd(), segments, "pipe"); }

 private:
  PipePair pipes_;
};

constexpr const char* kPipeFix =
    "a seccomp filter or resource limit blocks pipes; check ulimit -n and the container's seccomp profile";

Availability probe_pipe() {
  Fd r, w;
  try {
    make_big_pipe(r, w);
  } catch (const std::exception& e) {
    return probe_error(e, kPipeFix);
  }
  return probe_one_byte(w.get(), r.get(), "pipe probe", kPipeFix);
}

std::map<std::string, std::string> pipe_context() {
  Fd r, w;
  try {
    return {{"pipe_size_bytes", std::to_string(make_big_pipe(r, w))},
            {"pipe_max_size", std::to_string(pipe_max_size())}};
  } catch (const std::exception&) {
    return {};
  }
}

// A write completes once it fits in the pipe buffer.
std::size_t pipe_bidirectional_limit() {
  try {
    Fd r, w;
    return static_cast<std::size_t>(make_big_pipe(r, w));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

extern const Mechanism kPipeMechanism{
    .id = "pipe",
    .summary = "write() / read() through a pipe per direction, pipe size raised with F_SETPIPE_SZ",
    .api = "pipe",
    .moves = Moves::both,
    .copies = 2,
    .copies_note = "",
    .single_copy = false,
    .permissions = "",
    .wait_policies = kKernelBlocksOnly,  // ranks wait in read() and write()
    .probe = probe_pipe,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<PipeLink>(c); },
    .context = pipe_context,
    .bidirectional_limit = pipe_bidirectional_limit,
};

}  // namespace ipcatlas
