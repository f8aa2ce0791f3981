#include "mechanisms/support/rendezvous.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "mechanisms/support/access_causes.hpp"
#include "mechanisms/support/peer_environment.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/support/sibling_probe.hpp"
#include "mechanisms/support/eventfd_doorbell.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "mechanisms/support/segments.hpp"

namespace ipcatlas {
namespace {

// What a rank posts in its mailbox slot: where its buffer is. A
// scatter/gather message posts `segments` > 0 and its iovecs in the poster's
// table of the link's shared memory (a slot holds 20 bytes, not N iovecs),
// as a library sends a datatype's description with its rendezvous.
struct Descriptor {
  std::uint64_t address;
  std::uint64_t length;
  std::uint32_t segments;  // 0: one contiguous buffer at `address`
};
constexpr std::size_t kDescriptorBytes = 2 * sizeof(std::uint64_t) + sizeof(std::uint32_t);
static_assert(kDescriptorBytes <= MailboxShared::kSlotBytes);

class RendezvousLink final : public Link {
 public:
  RendezvousLink(const LinkConfig& config, Rendezvous kind, std::unique_ptr<PeerMemory> memory)
      : config_(config),
        kind_(kind),
        memory_(std::move(memory)),
        mailbox_memory_(sizeof(MailboxShared), config.numa_node),
        doorbell_(config.wait),
        tables_(config.max_segments > 1 ? SharedMapping(2 * config.max_segments * sizeof(iovec), config.numa_node)
                                        : SharedMapping()) {}

  void open(Side side, pid_t peer) override {
    doorbell_.open(side);
    mailbox_ = MailboxEnd(mailbox_memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
    allow_peer_access(peer);  // before this side ever posts an address
    memory_->open(peer);
    side_ = side;
  }

  void send(std::span<const std::byte> msg) override {
    begin_send(msg);
    end_send();
  }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    begin_recv(into);
    return end_recv();
  }

  // pull: the sender posts its address at once; push: it copies at the end.
  void begin_send(std::span<const std::byte> msg) override {
    pending_send_ = msg;
    if (kind_ == Rendezvous::pull) post_descriptor({msg.data(), msg.size(), 0});
  }

  void end_send() override {
    const std::span<const std::byte> msg = pending_send_;
    if (kind_ == Rendezvous::pull) {
      mailbox_.wait_all_consumed();  // the receiver has copied: msg may be reused
      return;
    }
    const Descriptor where = take_descriptor(msg.size());
    const std::uint64_t address = where.address;
    if (where.segments > 0) {
      write_contiguous_to_segments(where.segments, msg);
    } else if (!msg.empty()) {
      memory_->write(address, msg);
    }
    mailbox_.consume();
    mailbox_.post();  // completion
  }

  // push: the receiver posts its address at once; pull: it copies at the end.
  void begin_recv(std::span<std::byte> into) override {
    pending_recv_ = into;
    if (kind_ == Rendezvous::push) post_descriptor({into.data(), into.size(), 0});
  }

  std::span<const std::byte> end_recv() override {
    const std::span<std::byte> into = pending_recv_;
    if (kind_ == Rendezvous::pull) {
      const Descriptor where = take_descriptor(into.size());
      if (where.segments > 0) {
        read_segments_to_contiguous(where.segments, into);
      } else if (!into.empty()) {
        memory_->read(into, where.address);
      }
      mailbox_.consume();
      return into;
    }
    mailbox_.wait_posted();  // completion: the sender has copied into `into`
    mailbox_.consume();
    return into;
  }

  void send_segments(std::span<const iovec> segments) override {
    begin_send_segments(segments);
    end_send_segments();
  }

  void recv_segments(std::span<const iovec> segments) override {
    begin_recv_segments(segments);
    end_recv_segments();
  }

  // As the contiguous forms, with the segments' iovecs posted through this
  // side's table and copied by read_segments()/write_segments().
  void begin_send_segments(std::span<const iovec> segments) override {
    pending_send_segments_ = segments;
    if (kind_ == Rendezvous::pull) post_segments(segments);
  }

  void end_send_segments() override {
    if (kind_ == Rendezvous::pull) {
      mailbox_.wait_all_consumed();
      return;
    }
    const Descriptor where = take_descriptor(total_bytes(pending_send_segments_));
    memory_->write_segments(remote_of(where), pending_send_segments_);
    mailbox_.consume();
    mailbox_.post();
  }

  void begin_recv_segments(std::span<const iovec> segments) override {
    pending_recv_segments_ = segments;
    if (kind_ == Rendezvous::push) post_segments(segments);
  }

  void end_recv_segments() override {
    if (kind_ == Rendezvous::pull) {
      const Descriptor where = take_descriptor(total_bytes(pending_recv_segments_));
      memory_->read_segments(pending_recv_segments_, remote_of(where));
      mailbox_.consume();
      return;
    }
    mailbox_.wait_posted();
    mailbox_.consume();
  }

 private:
  // A contiguous message whose peer posted segments (or the reverse, in
  // remote_of()): the mechanisms need not agree on the form, only on the bytes.
  void write_contiguous_to_segments(std::uint32_t segments, std::span<const std::byte> msg) {
    local_one_ = iovec{const_cast<std::byte*>(msg.data()), msg.size()};
    memory_->write_segments(peer_table(segments), {&local_one_, 1});
  }

  void read_segments_to_contiguous(std::uint32_t segments, std::span<std::byte> into) {
    local_one_ = iovec{into.data(), into.size()};
    memory_->read_segments({&local_one_, 1}, peer_table(segments));
  }

  struct Posted {
    const std::byte* address;
    std::size_t length;
    std::uint32_t segments;
  };

  void post_descriptor(Posted p) {
    const std::uint64_t address = reinterpret_cast<std::uintptr_t>(p.address), length = p.length;
    std::byte* slot = mailbox_.out_slot().data();
    std::memcpy(slot, &address, 8);
    std::memcpy(slot + 8, &length, 8);
    std::memcpy(slot + 16, &p.segments, 4);
    mailbox_.post();
  }

  void post_segments(std::span<const iovec> segments) {
    if (segments.size() > config_.max_segments)
      throw std::logic_error(
          fmt::format("rendezvous: {} segments on a link made for {}", segments.size(), config_.max_segments));
    std::memcpy(table(side_), segments.data(), segments.size_bytes());
    post_descriptor({nullptr, total_bytes(segments), static_cast<std::uint32_t>(segments.size())});
  }

  iovec* table(Side side) {
    return reinterpret_cast<iovec*>(tables_.data()) + static_cast<std::size_t>(index_of(side)) * config_.max_segments;
  }

  std::span<const iovec> peer_table(std::uint32_t segments) {
    if (segments > config_.max_segments)
      throw std::runtime_error(
          fmt::format("rendezvous: the peer posted {} segments on a link made for {}", segments, config_.max_segments));
    return {table(other(side_)), segments};
  }

  // The peer's buffer as segments: its table, or its one contiguous buffer.
  std::span<const iovec> remote_of(const Descriptor& d) {
    if (d.segments > 0) return peer_table(d.segments);
    remote_one_ = iovec{reinterpret_cast<void*>(d.address), d.length};
    return {&remote_one_, 1};
  }

  Descriptor take_descriptor(std::size_t expected_length) {
    mailbox_.wait_posted();
    Descriptor d;
    const std::byte* slot = mailbox_.in_slot().data();
    std::memcpy(&d.address, slot, 8);
    std::memcpy(&d.length, slot + 8, 8);
    std::memcpy(&d.segments, slot + 16, 4);
    if (d.length != expected_length)
      throw std::runtime_error(
          fmt::format("rendezvous: the peer posted a {}-byte buffer for a {}-byte message", d.length, expected_length));
    return d;
  }

  LinkConfig config_;
  Rendezvous kind_;
  std::unique_ptr<PeerMemory> memory_;
  SharedMapping mailbox_memory_;
  EventfdDoorbell doorbell_;  // --wait eventfd only
  SharedMapping tables_;      // max_segments iovecs per side, when segmented
  MailboxEnd mailbox_;
  Side side_ = Side::a;
  iovec remote_one_{}, local_one_{};  // a contiguous buffer as one segment
};

}  // namespace

std::unique_ptr<Link> make_rendezvous_link(const LinkConfig& config, Rendezvous kind,
                                           std::unique_ptr<PeerMemory> memory) {
  return std::make_unique<RendezvousLink>(config, kind, std::move(memory));
}

void for_each_piece(std::span<const iovec> local, std::span<const iovec> remote,
                    const std::function<void(std::span<std::byte> piece, std::uintptr_t remote)>& fn) {
  SegmentCursor mine(local);
  for (const iovec& r : remote)
    for (std::size_t done = 0; done < r.iov_len;) {
      const iovec piece = mine.piece(r.iov_len - done);
      if (piece.iov_len == 0) throw std::runtime_error("rendezvous: the local segments are shorter than the peer's");
      fn({static_cast<std::byte*>(piece.iov_base), piece.iov_len}, reinterpret_cast<std::uintptr_t>(r.iov_base) + done);
      mine.advance(piece.iov_len);
      done += piece.iov_len;
    }
}

void PeerMemory::read_segments(std::span<const iovec> local, std::span<const iovec> remote) {
  for_each_piece(local, remote, [this](std::span<std::byte> piece, std::uintptr_t at) { read(piece, at); });
}

void PeerMemory::write_segments(std::span<const iovec> remote, std::span<const iovec> local) {
  for_each_piece(local, remote, [this](std::span<std::byte> piece, std::uintptr_t at) { write(at, piece); });
}

void throw_access_error(const char* operation, int err, pid_t peer) {
  const Availability why = explain_access_failure(operation, err, read_access_environment(peer));
  throw AccessError(why.reason + "; fix: " + why.fix, err);
}

void transfer_all(std::size_t length, const char* operation, pid_t peer,
                  const std::function<ssize_t(std::size_t done, std::size_t left)>& step) {
  for (std::size_t done = 0; done < length;) {
    const ssize_t n = step(done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_access_error(operation, errno, peer);
    if (n == 0)
      throw std::runtime_error(
          fmt::format("{} moved nothing at byte {} of {}: the peer's buffer is gone?", operation, done, length));
    done += static_cast<std::size_t>(n);
  }
}

Availability probe_peer_memory(const char* operation, Rendezvous kind,
                               const std::function<std::unique_ptr<PeerMemory>()>& make) {
  // Each probe uses only its own mechanism's call: a push probe writes and
  // does not read back, so that a seccomp filter refusing only reads does
  // not make a write mechanism look unavailable.
  const SiblingResult result = try_sibling_access([&](pid_t target, const void* buffer) {
    try {
      std::unique_ptr<PeerMemory> memory = make();
      memory->open(target);
      std::byte local[64];
      const auto remote = reinterpret_cast<std::uintptr_t>(buffer);
      if (kind == Rendezvous::push) {
        for (int i = 0; i < 64; ++i) local[i] = std::byte(i);  // what the target holds already
        memory->write(remote, local);
        return 0;
      }
      memory->read(local, remote);
      for (int i = 0; i < 64; ++i)
        if (local[i] != std::byte(i)) return EIO;
      return 0;
    } catch (const AccessError& e) {
      return e.err();
    } catch (const SysError& e) {
      return e.err();
    } catch (const std::exception&) {
      return EIO;
    }
  });
  if (result.err == 0) return Availability::yes();
  // The probe's own pipe2 or fork may fail too (out of file descriptors or processes): name that call, not the access.
  return explain_access_failure(result.call.empty() ? operation : result.call, result.err, read_access_environment(0));
}

}  // namespace ipcatlas
