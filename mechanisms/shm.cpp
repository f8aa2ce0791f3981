// shm: double copy through shared memory, as MPICH's and Open MPI's
// shared-memory transports do.
//
// Messages of up to 20 bytes go inline in the link's mailbox line: the sender
// copies them in and posts, the receiver copies them out and consumes; one
// cache line moves per message.
//
// Messages that fit one fragment (up to 4 KiB) go through a per-direction
// buffer, signalled through the mailbox line too: the ring's turn words would
// add two line transfers per message.
//
// Larger messages are cut into fragments and pushed through a ring of kCells
// cells per direction. Each cell has a turn word in its own cache line: for
// round r (the r-th time the ring wraps) the cell is free when turn == 2r and
// full when turn == 2r+1; the receiver sets 2r+2 after copying out. The
// sender fills cell k+1 while the receiver empties cell k, so for large
// messages both copies run in parallel on the two cores.
//
// The fragment size adapts to the message. A message of M bytes in
// fragments of F takes about M/B + F/B + (M/F)s, with B the copy bandwidth
// and s the cost of handing over one cell: the first fragment is copied
// alone, and every fragment pays a hand-over. That is smallest at
// F = sqrt(M B s); with B ~ 10 GB/s and s ~ 800 ns, F ~ sqrt(8192 M), which
// fragment_bytes() rounds down to a power of two between 4 KiB and a cell.
// Both ranks know M, so they cut every message identically. s was first
// taken as 200 ns (sqrt(2048 M)); measured against it, old and new binaries
// alternated over 9 rounds on the AMD EPYC KVM host, the larger fragments
// gave 1.18x the bandwidth at 64 KiB, 1.32x at 256 KiB and 1.21x at 1 MiB
// (8 KiB and 4 MiB, whose fragments did not change, 1.01x and 1.05x).
// Fragments of 128 KiB in 128 KiB cells were slower at 1 MiB (0.89x).
#include <cmath>
#include <cstring>

#include "harness/base/error.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/support/eventfd_doorbell.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "mechanisms/support/segments.hpp"
#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kCells = 8;
constexpr std::size_t kCellBytes = 64 * 1024;
constexpr std::size_t kMinFragmentBytes = 4 * 1024;

std::size_t fragment_bytes(std::size_t message_bytes) {
  const auto ideal = static_cast<std::size_t>(std::sqrt(8192.0 * static_cast<double>(message_bytes)));
  std::size_t f = kMinFragmentBytes;
  while (f * 2 <= ideal && f * 2 <= kCellBytes) f *= 2;
  return f;
}

struct alignas(64) CellTurn {
  std::atomic<std::uint32_t> turn;
};

// One direction's ring: the turn lines, then the cell data.
struct Ring {
  CellTurn* turns;
  std::byte* data;
  std::byte* cell(std::size_t c) const { return data + c * kCellBytes; }
};

constexpr std::size_t kRingBytes = kCells * sizeof(CellTurn) + kCells * kCellBytes;
constexpr std::size_t kDirectBytes = kMinFragmentBytes;  // messages this small need no pipelining
constexpr std::size_t kDirectOffset = sizeof(MailboxShared) + 2 * kRingBytes;

class ShmLink final : public Link {
 public:
  explicit ShmLink(const LinkConfig& config)
      : config_(config), memory_(kDirectOffset + 2 * kDirectBytes, config.numa_node), doorbell_(config.wait) {
    for (int d = 0; d < 2; ++d) {
      std::byte* base = memory_.data() + sizeof(MailboxShared) + static_cast<std::size_t>(d) * kRingBytes;
      rings_[d] = Ring{reinterpret_cast<CellTurn*>(base), base + kCells * sizeof(CellTurn)};
    }
  }

  void open(Side side, pid_t) override {
    doorbell_.open(side);
    mailbox_ = MailboxEnd(memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
    out_ = &rings_[index_of(side)];
    in_ = &rings_[index_of(other(side))];
    out_direct_ = memory_.data() + kDirectOffset + static_cast<std::size_t>(index_of(side)) * kDirectBytes;
    in_direct_ = memory_.data() + kDirectOffset + static_cast<std::size_t>(index_of(other(side))) * kDirectBytes;
  }

  void send(std::span<const std::byte> msg) override { send_from(ContiguousSource{msg.data()}, msg.size()); }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    receive_into(ContiguousSink{into.data()}, into.size());
    return into;
  }

  // The copy-in gathers the segments into the slot, buffer or cells, the
  // copy-out scatters into them: the same protocol, other copies.
  void send_segments(std::span<const iovec> segments) override {
    SegmentCursor cursor(segments);
    send_from(Gathered{cursor}, total_bytes(segments));
  }

  void recv_segments(std::span<const iovec> segments) override {
    SegmentCursor cursor(segments);
    receive_into(Gathered{cursor}, total_bytes(segments));
  }

 private:
  // Where a message's bytes come from (send) or go to (recv): one buffer, or
  // segments walked by a cursor. A template parameter, so that the
  // contiguous path compiles to the plain copies it always made.
  struct ContiguousSource {
    const std::byte* at;
    void copy_out(std::byte* dst, std::size_t n, bool small) {
      small ? copy_small(dst, at, n) : (void)std::memcpy(dst, at, n);
      at += n;
    }
  };
  struct ContiguousSink {
    std::byte* at;
    void copy_in(const std::byte* src, std::size_t n, bool small) {
      small ? copy_small(at, src, n) : (void)std::memcpy(at, src, n);
      at += n;
    }
  };
  struct Gathered {
    SegmentCursor& cursor;
    void copy_out(std::byte* dst, std::size_t n, bool) { gather(cursor, {dst, n}); }
    void copy_in(const std::byte* src, std::size_t n, bool) { scatter({src, n}, cursor); }
  };

  template <class Source>
  void send_from(Source source, std::size_t size) {
    if (size <= MailboxShared::kSlotBytes) {
      mailbox_.wait_all_consumed();
      source.copy_out(mailbox_.out_slot().data(), size, true);
      mailbox_.post();
      return;
    }
    if (size <= kDirectBytes) {
      mailbox_.wait_all_consumed();
      source.copy_out(out_direct_, size, false);
      mailbox_.post();
      return;
    }
    const std::size_t fragment = fragment_bytes(size);
    for (std::size_t done = 0; done < size; done += fragment) {
      const std::size_t len = std::min(fragment, size - done);
      const std::size_t c = sent_fragments_ % kCells;
      const auto round = static_cast<std::uint32_t>(sent_fragments_ / kCells);
      wait_until(
          out_->turns[c].turn, [round](std::uint32_t t) { return t == 2 * round; }, mailbox_.waiting());
      source.copy_out(out_->cell(c), len, false);
      publish(out_->turns[c].turn, 2 * round + 1, mailbox_.waiting());
      ++sent_fragments_;
    }
  }

  template <class Sink>
  void receive_into(Sink sink, std::size_t size) {
    if (size <= MailboxShared::kSlotBytes) {
      mailbox_.wait_posted();
      sink.copy_in(mailbox_.in_slot().data(), size, true);
      mailbox_.consume();
      return;
    }
    if (size <= kDirectBytes) {
      mailbox_.wait_posted();
      sink.copy_in(in_direct_, size, false);
      mailbox_.consume();
      return;
    }
    const std::size_t fragment = fragment_bytes(size);
    for (std::size_t done = 0; done < size; done += fragment) {
      const std::size_t len = std::min(fragment, size - done);
      const std::size_t c = received_fragments_ % kCells;
      const auto round = static_cast<std::uint32_t>(received_fragments_ / kCells);
      wait_until(
          in_->turns[c].turn, [round](std::uint32_t t) { return t == 2 * round + 1; }, mailbox_.waiting());
      sink.copy_in(in_->cell(c), len, false);
      publish(in_->turns[c].turn, 2 * round + 2, mailbox_.waiting());
      ++received_fragments_;
    }
  }

  LinkConfig config_;
  SharedMapping memory_;
  EventfdDoorbell doorbell_;  // --wait eventfd only
  Ring rings_[2];
  MailboxEnd mailbox_;
  Ring* out_ = nullptr;
  Ring* in_ = nullptr;
  std::byte* out_direct_ = nullptr;
  std::byte* in_direct_ = nullptr;
  std::uint64_t sent_fragments_ = 0;
  std::uint64_t received_fragments_ = 0;
};

std::map<std::string, std::string> shm_context() {
  return {{"shm_cells", std::to_string(kCells)},
          {"shm_cell_bytes", std::to_string(kCellBytes)},
          {"shm_fragment_bytes", "min(cell, max(4K, power of two <= sqrt(8192 * size)))"},
          {"shm_inline_bytes", std::to_string(MailboxShared::kSlotBytes)}};
}

// A send completes once its fragments are in the ring (the receiver drained
// the previous message): up to the ring's capacity.
std::size_t shm_bidirectional_limit() { return kCells * kCellBytes; }

}  // namespace

extern const Mechanism kShmMechanism{
    .id = "shm",
    .summary = "sender copies into a shared-memory ring of cells, receiver copies out; large messages are pipelined "
               "through the cells",
    .api = "shared memory",
    .moves = Moves::both,
    .copies = 2,
    .copies_note = "",
    .single_copy = false,
    .permissions = "",
    .wait_policies = kEveryWaitPolicy,  // every wait is a wait_until() on the mailbox or a ring cell
    .probe = probe_shared_memory,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<ShmLink>(c); },
    .context = shm_context,
    .bidirectional_limit = shm_bidirectional_limit,
};

}  // namespace ipcatlas
