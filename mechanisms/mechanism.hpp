// The one interface every mechanism implements.
//
// A mechanism moves messages over a Link: a bidirectional connection between
// two ranks. The driver creates the Link before forking the ranks, so both
// inherit its file descriptors and shared memory; each rank then calls open()
// with its side and from then on uses only that side.
//
// Why bidirectional and not a one-way channel: on the machines we measured,
// a ping-pong whose two signals share one cache line costs half as much as
// one using a line per direction (the line migrates instead of being
// invalidated and re-fetched). Links let shm and zerocopy use one line per
// pair, and give pull/push mechanisms their reverse path for acknowledgements.
//
// Mechanisms only move bytes. They never time themselves: the scenario times
// whole batches of send/recv calls.
//
// The contract on waiting. A process may hold signals it owes its peers
// (DeferredSignal, harness/ranks/wait.hpp: a receiver's "consumed", which
// rides on its next post for free). Every Link call that may wait for the
// peer must publish them first, or two ranks could each wait for what the
// other holds. So a mechanism waits in exactly two ways:
//   - on shared memory, with wait_until() and its kin (wait.hpp), which
//     publish before they spin or sleep (in a futex, or under --wait eventfd
//     in epoll_wait() on the link's eventfd, EventfdDoorbell);
//   - in a system call that may sleep until the peer acts, made through
//     blocking_call() (mechanisms/support/blocking_call.hpp), which publishes
//     first; fd_io's read_message() and write_message() use it.
// deferred_signal_test.cpp holds every registered mechanism to this: a peer
// that acts only once it has seen the deferred signal. Why not non-virtual
// send()/recv() that publish and then call the mechanism: shm and zerocopy
// would then publish their deferred consume on its own at every send, a
// cache-line transfer that the post right after carries for free.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "harness/base/availability.hpp"
#include "harness/ranks/payload.hpp"
#include "harness/ranks/wait.hpp"

namespace ipcatlas {

enum class Side : int { a = 0, b = 1 };
inline int index_of(Side s) { return static_cast<int>(s); }
inline Side other(Side s) { return s == Side::a ? Side::b : Side::a; }

struct LinkConfig {
  std::size_t max_message_bytes = 0;  // no message on this link is larger
  WaitPolicy wait = WaitPolicy::spin;
  int numa_node = -1;  // where the link's shared memory goes (-1: the kernel's default)
  // The most segments a scatter/gather message on this link has (send_segments);
  // 1: only contiguous messages. Rendezvous links size their iovec tables by it.
  std::size_t max_segments = 1;
};

class Link {
 public:
  virtual ~Link() = default;

  // In the rank, after fork: keep only this side. `peer` is the other rank's pid.
  virtual void open(Side side, pid_t peer) = 0;

  // Where the caller should build its next outgoing message of up to `bytes`
  // bytes. Copying mechanisms return an empty span: build it anywhere.
  // zerocopy returns memory the peer maps, and blocks until the peer has
  // released the previous message built there.
  virtual std::span<std::byte> message_memory(std::size_t bytes) {
    (void)bytes;
    return {};
  }

  // Blocks until msg has been handed over and its memory may be reused.
  virtual void send(std::span<const std::byte> msg) = 0;

  // For a link that lends memory (message_memory() is not empty): writes the
  // stamp (harness/ranks/payload.hpp) of the message of `size` bytes at
  // `offset` in that memory, whose body the caller built there, and sends
  // it. Why the link writes the stamp: a small message lives in the line the
  // peer polls, and if more than a few cycles pass between the first store
  // into that line and the post, the peer takes the line back in between and
  // the post costs another transfer; a virtual send() called after the
  // caller's stores is such a gap. zerocopy's override is 2.6-5.5 ns a
  // message faster than message_memory(), the stamp and send() on the AMD
  // EPYC host (ci/small-message-probe, zerocopy-stamped against zerocopy-link).
  virtual void send_stamped(std::size_t offset, std::size_t size, const Stamp& stamp) {
    const std::span<std::byte> msg = message_memory(offset + size).subspan(offset, size);
    write_stamp(msg, stamp);
    send(msg);
  }

  // Blocks until a message of exactly into.size() bytes has arrived, and
  // returns its bytes: `into` for copying mechanisms; for zerocopy a view of
  // shared memory, valid until this side's next call on the link.
  virtual std::span<const std::byte> recv(std::span<std::byte> into) = 0;

  // Split-phase forms, so that one rank can have a message under way on
  // several links at once (one-to-many, many-to-one). begin_* starts the
  // operation and returns; end_* completes it; in between the buffer must
  // not be touched, and at most one send and one receive may be pending per
  // link. By default begin_* only remembers the buffer and end_* makes the
  // blocking call; rendezvous mechanisms post their buffer's address at
  // begin_*, so that several peers can copy at the same time.
  virtual void begin_send(std::span<const std::byte> msg) { pending_send_ = msg; }
  virtual void end_send() { send(pending_send_); }
  virtual void begin_recv(std::span<std::byte> into) { pending_recv_ = into; }
  virtual std::span<const std::byte> end_recv() { return recv(pending_recv_); }

  // Scatter/gather (--segments N): one message made of the bytes of
  // `segments` in order, as a library moves a non-contiguous datatype, with
  // the same blocking and reuse rules as send()/recv(). The receiver's
  // segments may be laid out differently from the sender's; only the total
  // must match. Separate calls, so that the contiguous path stays as it is.
  // A mechanism whose descriptor has a `segments_refusal` never gets them;
  // the defaults say so if it does.
  virtual void send_segments(std::span<const iovec> segments);
  virtual void recv_segments(std::span<const iovec> segments);
  // Split-phase forms, as begin_send/end_send (at most one of each pending).
  virtual void begin_send_segments(std::span<const iovec> segments) { pending_send_segments_ = segments; }
  virtual void end_send_segments() { send_segments(pending_send_segments_); }
  virtual void begin_recv_segments(std::span<const iovec> segments) { pending_recv_segments_ = segments; }
  virtual void end_recv_segments() { recv_segments(pending_recv_segments_); }

 protected:
  std::span<const std::byte> pending_send_;
  std::span<std::byte> pending_recv_;
  std::span<const iovec> pending_send_segments_, pending_recv_segments_;
};

// Whose call copies the payload (the descriptor's `moves`). Copying
// mechanisms with a buffer between the ranks copy on both sides; single-copy
// ones copy on one side, which costs that side's CPU time and decides which
// process must be allowed to reach the other's memory.
enum class Moves {
  pull,  // the receiver's call copies, from the sender's memory
  push,  // the sender's call copies, into the receiver's memory
  both,  // one copy on each side, through a buffer between them
  none,  // no copy: the receiver reads the bytes where the sender wrote them
};

constexpr std::string_view to_string(Moves moves) {
  switch (moves) {
    case Moves::pull: return "pull";
    case Moves::push: return "push";
    case Moves::both: return "both";
    case Moves::none: return "none";
  }
  return "?";
}

// The --wait policies a mechanism honours: those that every one of its waits
// for the peer follows. Waits inside blocking system calls (read(), recv())
// sleep in the kernel whatever the policy, so a mechanism that waits there
// honours only block, and its wait:spin results are blocking ones. eventfd is
// honoured by the mechanisms whose every wait is on the link's mailbox
// (wait_until(), woken through the link's eventfds); run skips the others
// (wait_policy_skip_reason()).
struct WaitPolicies {
  bool spin = false, block = false, adaptive = false, eventfd = false;

  constexpr bool honours(WaitPolicy policy) const {
    switch (policy) {
      case WaitPolicy::spin: return spin;
      case WaitPolicy::block: return block;
      case WaitPolicy::adaptive: return adaptive;
      case WaitPolicy::eventfd: return eventfd;
    }
    return false;
  }
};
inline constexpr WaitPolicies kEveryWaitPolicy{true, true, true, true};
inline constexpr WaitPolicies kKernelBlocksOnly{false, true, false, false};
inline constexpr WaitPolicy kAllWaitPolicies[] = {WaitPolicy::spin, WaitPolicy::block, WaitPolicy::adaptive,
                                                  WaitPolicy::eventfd};

// A mechanism's descriptor: everything the harness, `list`, the result files'
// context and the analysis know of it. The registry (registry.cpp) lists them all.
struct Mechanism {
  std::string_view id;           // part of the interface: benchmark names, --mechanisms
  std::string_view summary;      // one line: how the bytes move
  std::string_view api;          // the kernel interface: "pipe", "process_vm_readv", "shared memory", ...
  Moves moves;                   // whose call copies the payload
  int copies;                    // copies of the payload the API makes
  std::string_view copies_note;  // qualifies `copies`, e.g. "2 inside the kernel"
  // A single-copy path that MPI and UCX runtimes switch to above their eager
  // limit (CMA, KNEM, XPMEM, MPICH's vmsplice). procmem-* and ptrace copy once
  // too, but no runtime uses them.
  bool single_copy;
  // A floor to judge the others against, not a way to move an arbitrary
  // buffer (zerocopy: the sender must build its message in shared memory).
  bool reference = false;
  // Moves page mappings of this page size per message instead of bytes
  // (memfd-map: 4 KiB, memfd-map-huge: 2 MiB); 0 when it moves bytes or nothing.
  std::size_t mapping_page_size = 0;
  std::string_view permissions;  // what it needs beyond a plain process, e.g. "ptrace access to the peer"
  // Only one process may access a given process's memory at a time (ptrace:
  // a tracee has one tracer). The scenario layer refuses the patterns in
  // which several peers would access one rank (mechanism_cannot_serve()).
  bool one_tracer_per_tracee = false;
  WaitPolicies wait_policies = kEveryWaitPolicy;
  // Empty when the mechanism moves scatter/gather messages (send_segments);
  // otherwise why it cannot, which is the skip reason of its --segments N > 1 cells.
  std::string_view segments_refusal = {};

  // Checks, by trying, whether the mechanism works on this machine.
  Availability (*probe)();
  // Creates a Link in the driver, before fork.
  std::unique_ptr<Link> (*make_link)(const LinkConfig& config);
  // Settings worth recording with results (e.g. the pipe size used).
  std::map<std::string, std::string> (*context)() = nullptr;
  // Larger messages are skipped unless the user raises the cap (--size-cap
  // ID=SIZE); 0 means no cap. For mechanisms too slow to measure big sizes.
  std::size_t default_size_cap = 0;
  // The largest message whose send() completes while the peer is itself busy
  // sending (buffered in the kernel or in shared memory); 0 when a send
  // waits for the receiver (rendezvous). Two single-threaded ranks can send
  // to each other at once only below it (stream --bidirectional).
  std::size_t (*bidirectional_limit)() = nullptr;
};

// The bidirectional_limit of a mechanism whose send only signals (the peer
// reads the message where it was built): any size.
inline std::size_t no_bidirectional_limit() { return ~std::size_t{0}; }

}  // namespace ipcatlas
