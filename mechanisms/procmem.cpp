// procmem-read and procmem-write: pread / pwrite on the peer's /proc/PID/mem,
// at the address the peer posted (rendezvous.hpp). One copy as the API sees
// it, but the kernel copies page by page through a bounce page of its own
// (mem_rw() in fs/proc/base.c), so there are two inside the kernel.
//
// The file is opened once per peer and kept open. It is opened on the first
// message rather than in open(): opening checks ptrace access, and under
// Yama ptrace_scope=1 the peer must have declared us first, which it has done
// by the time it posts an address.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "harness/base/error.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/support/rendezvous.hpp"
#include "mechanisms/support/segments.hpp"

namespace ipcatlas {
namespace {

class ProcMemMemory final : public PeerMemory {
 public:
  explicit ProcMemMemory(int open_flags) : open_flags_(open_flags) {}

  void read(std::span<std::byte> into, std::uintptr_t remote) override {
    transfer(into.data(), remote, into.size(), false);
  }
  void write(std::uintptr_t remote, std::span<const std::byte> from) override {
    transfer(const_cast<std::byte*>(from.data()), remote, from.size(), true);
  }

  // The file offset is the remote address, so one call covers one remote
  // segment: a preadv()/pwritev() per remote segment, the local side as iovecs.
  void read_segments(std::span<const iovec> local, std::span<const iovec> remote) override {
    transfer_segments(local, remote, false);
  }
  void write_segments(std::span<const iovec> remote, std::span<const iovec> local) override {
    transfer_segments(local, remote, true);
  }

 private:
  int file() {
    if (file_.get() < 0) {
      const int fd = ::open(("/proc/" + std::to_string(peer_) + "/mem").c_str(), open_flags_ | O_CLOEXEC);
      if (fd < 0) throw_access_error("open /proc/PID/mem", errno, peer_);
      file_ = Fd(fd);
    }
    return file_.get();
  }

  // pread/pwrite may return short counts (the kernel stops at a page it
  // cannot access, or at its own limits): transfer_all loops.
  void transfer(std::byte* local, std::uintptr_t remote, std::size_t length, bool writing) {
    const int fd = file();
    transfer_all(length, writing ? "pwrite /proc/PID/mem" : "pread /proc/PID/mem", peer_,
                 [&](std::size_t done, std::size_t left) {
                   const auto offset = static_cast<off_t>(remote + done);
                   return writing ? pwrite(fd, local + done, left, offset) : pread(fd, local + done, left, offset);
                 });
  }

  void transfer_segments(std::span<const iovec> local, std::span<const iovec> remote, bool writing) {
    const int fd = file();
    SegmentCursor mine(local);
    for (const iovec& r : remote) {
      const auto base = reinterpret_cast<std::uintptr_t>(r.iov_base);
      transfer_all(r.iov_len, writing ? "pwritev /proc/PID/mem" : "preadv /proc/PID/mem", peer_,
                   [&](std::size_t done, std::size_t left) {
                     const std::span<const iovec> w = mine.window(left);
                     const auto offset = static_cast<off_t>(base + done);
                     const auto count = static_cast<int>(w.size());
                     const ssize_t n =
                         writing ? pwritev(fd, w.data(), count, offset) : preadv(fd, w.data(), count, offset);
                     if (n > 0) mine.advance(static_cast<std::size_t>(n));
                     return n;
                   });
    }
  }

  int open_flags_;
  Fd file_;
};

Availability probe_procmem_read() {
  return probe_peer_memory("open /proc/PID/mem", Rendezvous::pull,
                           [] { return std::make_unique<ProcMemMemory>(O_RDONLY); });
}

Availability probe_procmem_write() {
  return probe_peer_memory("open /proc/PID/mem", Rendezvous::push,
                           [] { return std::make_unique<ProcMemMemory>(O_RDWR); });
}

constexpr const char* kProcmemPermissions =
    "ptrace access to the peer (as cma-*), and /proc mounted without hidepid hiding the peer";

}  // namespace

extern const Mechanism kProcmemReadMechanism{
    .id = "procmem-read",
    .summary = "receiver pread()s the peer's /proc/PID/mem at the address the sender posted; fd kept open",
    .api = "/proc/PID/mem",
    .moves = Moves::pull,
    .copies = 1,
    .copies_note = "2 inside the kernel (page by page through a bounce page)",
    .single_copy = false,  // one copy as the API sees it, but no MPI or UCX runtime uses it
    .permissions = kProcmemPermissions,
    .wait_policies = kEveryWaitPolicy,  // the rendezvous waits on the mailbox line
    .probe = probe_procmem_read,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> {
      return make_rendezvous_link(c, Rendezvous::pull, std::make_unique<ProcMemMemory>(O_RDONLY));
    },
};

extern const Mechanism kProcmemWriteMechanism{
    .id = "procmem-write",
    .summary = "sender pwrite()s the peer's /proc/PID/mem at the address the receiver posted; fd kept open",
    .api = "/proc/PID/mem",
    .moves = Moves::push,
    .copies = 1,
    .copies_note = "2 inside the kernel (page by page through a bounce page)",
    .single_copy = false,  // one copy as the API sees it, but no MPI or UCX runtime uses it
    .permissions = kProcmemPermissions,
    .wait_policies = kEveryWaitPolicy,  // the rendezvous waits on the mailbox line
    .probe = probe_procmem_write,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> {
      return make_rendezvous_link(c, Rendezvous::push, std::make_unique<ProcMemMemory>(O_WRONLY));
    },
};

}  // namespace ipcatlas
