// cma-read and cma-write: Cross Memory Attach (Linux 3.2). One rank copies
// straight between its buffer and the peer's with process_vm_readv /
// process_vm_writev: one copy, no intermediate buffer, one system call per
// message. The address is exchanged through the link's mailbox line
// (rendezvous.hpp).
//
//   cma-read:  the receiver pulls from the address the sender posted.
//   cma-write: the sender pushes into the address the receiver posted.
//
// Both need ptrace-mode access to the peer (PTRACE_MODE_ATTACH_REALCREDS):
// same credentials, and under Yama ptrace_scope=1 a PR_SET_PTRACER
// declaration, which ranks make for each other.
#include <sys/uio.h>

#include <climits>

#include "harness/base/error.hpp"
#include "mechanisms/support/rendezvous.hpp"
#include "mechanisms/support/segments.hpp"

namespace ipcatlas {
namespace {

// The kernel moves at most MAX_RW_COUNT (INT_MAX rounded down to a page) per
// call and may stop early (a partial transfer); both are handled by looping.
constexpr std::size_t kMaxPerCall = static_cast<std::size_t>(INT_MAX) & ~std::size_t{4095};

class CmaMemory final : public PeerMemory {
 public:
  void read(std::span<std::byte> into, std::uintptr_t remote) override {
    transfer(into.data(), remote, into.size(), false);
  }
  void write(std::uintptr_t remote, std::span<const std::byte> from) override {
    transfer(const_cast<std::byte*>(from.data()), remote, from.size(), true);
  }

  // One process_vm_readv/writev with N iovecs a side, looped at IOV_MAX
  // iovecs (either side) and at partial transfers.
  void read_segments(std::span<const iovec> local, std::span<const iovec> remote) override {
    transfer_segments(local, remote, false);
  }
  void write_segments(std::span<const iovec> remote, std::span<const iovec> local) override {
    transfer_segments(local, remote, true);
  }

 private:
  void transfer_segments(std::span<const iovec> local, std::span<const iovec> remote, bool writing) {
    SegmentCursor here(local), there(remote);
    transfer_all(total_bytes(local), writing ? "process_vm_writev" : "process_vm_readv", peer_,
                 [&](std::size_t, std::size_t) {
                   const std::span<const iovec> mine = here.window(kMaxPerCall);
                   const std::span<const iovec> theirs = there.window(total_bytes(mine));
                   const ssize_t n =
                       writing ? process_vm_writev(peer_, mine.data(), mine.size(), theirs.data(), theirs.size(), 0)
                               : process_vm_readv(peer_, mine.data(), mine.size(), theirs.data(), theirs.size(), 0);
                   if (n > 0) {
                     here.advance(static_cast<std::size_t>(n));
                     there.advance(static_cast<std::size_t>(n));
                   }
                   return n;
                 });
  }

  void transfer(std::byte* local, std::uintptr_t remote, std::size_t length, bool writing) {
    transfer_all(length, writing ? "process_vm_writev" : "process_vm_readv", peer_,
                 [&](std::size_t done, std::size_t left) {
                   const std::size_t chunk = std::min(left, kMaxPerCall);
                   iovec here{local + done, chunk};
                   iovec there{reinterpret_cast<void*>(remote + done), chunk};
                   return writing ? process_vm_writev(peer_, &here, 1, &there, 1, 0)
                                  : process_vm_readv(peer_, &here, 1, &there, 1, 0);
                 });
  }
};

Availability probe_cma_read() {
  return probe_peer_memory("process_vm_readv", Rendezvous::pull, [] { return std::make_unique<CmaMemory>(); });
}

Availability probe_cma_write() {
  return probe_peer_memory("process_vm_writev", Rendezvous::push, [] { return std::make_unique<CmaMemory>(); });
}

constexpr const char* kCmaPermissions =
    "ptrace access to the peer: same credentials; Yama ptrace_scope<=1 (ranks declare each other with "
    "PR_SET_PTRACER) or CAP_SYS_PTRACE; not blocked by seccomp";

}  // namespace

extern const Mechanism kCmaReadMechanism{
    .id = "cma-read",
    .summary = "receiver pulls with process_vm_readv from the address the sender posted",
    .api = "process_vm_readv",
    .moves = Moves::pull,
    .copies = 1,
    .copies_note = "",
    .single_copy = true,
    .permissions = kCmaPermissions,
    .wait_policies = kEveryWaitPolicy,  // the rendezvous waits on the mailbox line
    .probe = probe_cma_read,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> {
      return make_rendezvous_link(c, Rendezvous::pull, std::make_unique<CmaMemory>());
    },
};

extern const Mechanism kCmaWriteMechanism{
    .id = "cma-write",
    .summary = "sender pushes with process_vm_writev into the address the receiver posted",
    .api = "process_vm_writev",
    .moves = Moves::push,
    .copies = 1,
    .copies_note = "",
    .single_copy = true,
    .permissions = kCmaPermissions,
    .wait_policies = kEveryWaitPolicy,  // the rendezvous waits on the mailbox line
    .probe = probe_cma_write,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> {
      return make_rendezvous_link(c, Rendezvous::push, std::make_unique<CmaMemory>());
    },
};

}  // namespace ipcatlas
