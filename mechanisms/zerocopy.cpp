// zerocopy: the floor every other mechanism is judged against.
//
// The sender builds its message in place in memory both ranks map
// (message_memory()), and send() only signals. The receiver gets a view of
// that memory, with no copy. Messages of up to 20 bytes live in the mailbox
// line itself, so a small ping-pong moves exactly one cache line per message:
// the same as the bare cache-line bounce of ci/reference.
//
// The info word says where the message starts: bit 31 set means in the
// shared region, clear means in the mailbox slot; the low bits are the offset.
#include "harness/base/error.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/support/eventfd_doorbell.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "mechanisms/mechanism.hpp"

#include <fmt/format.h>

namespace ipcatlas {
namespace {

constexpr std::uint32_t kInRegion = 1u << 31;
constexpr std::size_t kSlack = 4096;  // room for callers that offset messages (alignment tests)

class ZerocopyLink final : public Link {
 public:
  explicit ZerocopyLink(const LinkConfig& config)
      : config_(config),
        mailbox_memory_(sizeof(MailboxShared), config.numa_node),
        regions_{SharedMapping(config.max_message_bytes + kSlack, config.numa_node),
                 SharedMapping(config.max_message_bytes + kSlack, config.numa_node)},
        doorbell_(config.wait) {}

  void open(Side side, pid_t) override {
    doorbell_.open(side);
    mailbox_ = MailboxEnd(mailbox_memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
    out_region_ = &regions_[index_of(side)];
    in_region_ = &regions_[index_of(other(side))];
  }

  std::span<std::byte> message_memory(std::size_t bytes) override {
    // Release first: the peer may itself be waiting in message_memory() for
    // the view we hold, before either of us sends again.
    release_view();
    mailbox_.wait_all_consumed();
    if (bytes <= MailboxShared::kSlotBytes) return mailbox_.out_slot();
    if (bytes > out_region_->size())
      throw std::length_error(fmt::format("zerocopy: {} bytes exceed the link's region", bytes));
    return out_region_->bytes();
  }

  void send(std::span<const std::byte> msg) override {
    release_view();
    const std::byte* slot = mailbox_.out_slot().data();
    const bool inline_msg = msg.data() >= slot && msg.data() + msg.size() <= slot + MailboxShared::kSlotBytes;
    const std::byte* base = inline_msg ? slot : out_region_->data();
    if (!inline_msg && (msg.data() < base || msg.data() + msg.size() > base + out_region_->size()))
      throw std::invalid_argument("zerocopy: send() needs a message built in message_memory()");
    mailbox_.set_out_info(static_cast<std::uint32_t>(msg.data() - base) | (inline_msg ? 0 : kInRegion));
    mailbox_.post();
  }

  // A small message: the stamp, the info and the post as consecutive
  // stores into the line (see Link::send_stamped and MailboxEnd::post_after).
  void send_stamped(std::size_t offset, std::size_t size, const Stamp& stamp) override {
    if (offset + size > MailboxShared::kSlotBytes) return Link::send_stamped(offset, size, stamp);
    release_view();
    mailbox_.wait_all_consumed();
    const Stamp s = stamp;
    mailbox_.post_after([&s, offset, size](std::byte* slot, std::uint32_t& info) {
      write_stamp({slot + offset, size}, s);
      info = static_cast<std::uint32_t>(offset);
    });
  }

  std::span<const std::byte> recv(std::span<std::byte> into) override {
    release_view();
    mailbox_.wait_posted();
    holding_view_ = true;
    const std::uint32_t info = mailbox_.in_info();
    const std::size_t offset = info & ~kInRegion;
    const std::byte* base = (info & kInRegion) ? in_region_->data() : mailbox_.in_slot().data();
    return {base + offset, into.size()};
  }

 private:
  // The view returned by the last recv() is released on this side's next call
  // of message_memory(), send() or recv().
  void release_view() {
    if (!holding_view_) return;
    holding_view_ = false;
    mailbox_.consume();
  }

  LinkConfig config_;
  SharedMapping mailbox_memory_;
  SharedMapping regions_[2];
  EventfdDoorbell doorbell_;  // --wait eventfd only
  MailboxEnd mailbox_;
  SharedMapping* out_region_ = nullptr;
  SharedMapping* in_region_ = nullptr;
  bool holding_view_ = false;
};

}  // namespace

extern const Mechanism kZerocopyMechanism{
    .id = "zerocopy",
    .summary = "payload written in place in memory both ranks map; only the signal moves (the floor)",
    .api = "shared memory",
    .moves = Moves::none,
    .copies = 0,
    .copies_note = "",
    .single_copy = false,
    .reference = true,  // the message must be built in the link's memory: no application buffer moves this way
    .permissions = "",
    .wait_policies = kEveryWaitPolicy,  // every wait is on the mailbox line
    .segments_refusal = "the sender builds its message in place in memory the receiver maps and nobody copies it: "
                        "there is no gather or scatter to measure, and segments laid out in that memory would only "
                        "change where the sender writes",
    .probe = probe_shared_memory,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<ZerocopyLink>(c); },
    .context = nullptr,
    .bidirectional_limit = no_bidirectional_limit,
};

}  // namespace ipcatlas
