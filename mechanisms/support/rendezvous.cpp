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

namespace ipcatlas {
namespace {

// What a rank posts in its mailbox slot: where its buffer is.
struct Descriptor {
  std::uint64_t address;
  std::uint64_t length;
};
static_assert(sizeof(Descriptor) <= MailboxShared::kSlotBytes);

class RendezvousLink final : public Link {
 public:
  RendezvousLink(const LinkConfig& config, Rendezvous kind, std::unique_ptr<PeerMemory> memory)
      : config_(config),
        kind_(kind),
        memory_(std::move(memory)),
        mailbox_memory_(sizeof(MailboxShared), config.numa_node),
        doorbell_(config.wait) {}

  void open(Side side, pid_t peer) override {
    doorbell_.open(side);
    mailbox_ = MailboxEnd(mailbox_memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
    allow_peer_access(peer);  // before this side ever posts an address
    memory_->open(peer);
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
    if (kind_ == Rendezvous::pull) post_descriptor(msg.data(), msg.size());
  }

  void end_send() override {
    const std::span<const std::byte> msg = pending_send_;
    if (kind_ == Rendezvous::pull) {
      mailbox_.wait_all_consumed();  // the receiver has copied: msg may be reused
      return;
    }
    const Descriptor where = take_descriptor(msg.size());
    if (!msg.empty()) memory_->write(where.address, msg);
    mailbox_.consume();
    mailbox_.post();  // completion
  }

  // push: the receiver posts its address at once; pull: it copies at the end.
  void begin_recv(std::span<std::byte> into) override {
    pending_recv_ = into;
    if (kind_ == Rendezvous::push) post_descriptor(into.data(), into.size());
  }

  std::span<const std::byte> end_recv() override {
    const std::span<std::byte> into = pending_recv_;
    if (kind_ == Rendezvous::pull) {
      const Descriptor where = take_descriptor(into.size());
      if (!into.empty()) memory_->read(into, where.address);
      mailbox_.consume();
      return into;
    }
    mailbox_.wait_posted();  // completion: the sender has copied into `into`
    mailbox_.consume();
    return into;
  }

 private:
  void post_descriptor(const std::byte* address, std::size_t length) {
    const Descriptor d{reinterpret_cast<std::uintptr_t>(address), length};
    std::memcpy(mailbox_.out_slot().data(), &d, sizeof d);
    mailbox_.post();
  }

  Descriptor take_descriptor(std::size_t expected_length) {
    mailbox_.wait_posted();
    Descriptor d;
    std::memcpy(&d, mailbox_.in_slot().data(), sizeof d);
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
  MailboxEnd mailbox_;
};

}  // namespace

std::unique_ptr<Link> make_rendezvous_link(const LinkConfig& config, Rendezvous kind,
                                           std::unique_ptr<PeerMemory> memory) {
  return std::make_unique<RendezvousLink>(config, kind, std::move(memory));
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
