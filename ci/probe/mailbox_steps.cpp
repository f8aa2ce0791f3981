// The probe's steps up to the mailbox protocol with stamps, written out here
// over the project's own MailboxEnd (mechanisms/support/mailbox.hpp), and
// the list of every step.
#include <atomic>
#include <stdexcept>

#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "protocol_steps.hpp"

namespace ipcatlas::probe {
namespace {

constexpr std::size_t kBytes = kProbeBytes;

// Runs side 0's send-then-receive or side 1's receive-then-send, n times.
template <class Sides>
void ping_pong(Sides& sides, int side, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (side == 0) {
      sides.send();
      sides.receive();
    } else {
      sides.receive();
      sides.send();
    }
  }
}

// ci/reference/cacheline_pingpong.c in C++: one word, side 0 writes odd
// numbers, side 1 the even ones.
class Bounce final : public Step {
 public:
  void open(int side) override { side_ = side; }
  void round_trips(std::uint64_t n) override {
    auto& word = *memory_.as<std::atomic<std::uint64_t>>();
    for (std::uint64_t i = 0; i < n; ++i, next_ += 2) {
      if (side_ == 0) {
        word.store(next_ + 1, std::memory_order_release);
        while (word.load(std::memory_order_acquire) != next_ + 2) cpu_relax();
      } else {
        while (word.load(std::memory_order_acquire) != next_ + 1) cpu_relax();
        word.store(next_ + 2, std::memory_order_release);
      }
    }
  }

 private:
  SharedMapping memory_{64};
  int side_ = 0;
  std::uint64_t next_ = 0;
};

// A fixed amount of work the compiler cannot remove: kWork dependent
// multiplies, about 3 cycles each.
inline std::uint64_t g_sink = 0;
template <int kWork>
void busy_work() {
  std::uint64_t x = g_sink | 1;
  for (int i = 0; i < kWork; ++i) x = x * 0x9e3779b97f4a7c15ULL + 1;
  asm volatile("" : "+r"(x));
  g_sink = x;
}

// What travels in the mailbox line: nothing but the state words; 8 bytes
// copied into the slot and out; the same with stamps; or the stamp written
// straight into the slot and checked there, as zerocopy builds a small message.
enum class Payload { none, bytes, stamped, in_place };

// The mailbox protocol as shm and zerocopy use it, with kWorkBefore or
// kWorkAfter multiplies between the payload's store and the post, or after it.
template <Payload kPayload, int kWorkBefore = 0, int kWorkAfter = 0>
class MailboxSteps final : public Step {
 public:
  void open(int side) override {
    side_ = side;
    end_ = MailboxEnd(memory_.as<MailboxShared>(), side == 0 ? Side::a : Side::b, WaitPolicy::spin);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side), sent_});
  }
  void round_trips(std::uint64_t n) override { ping_pong(*this, side_, n); }

  void send() {
    end_.wait_all_consumed();
    if constexpr (kPayload == Payload::stamped) write_stamp(out_, next_out_);
    if constexpr (kPayload == Payload::stamped || kPayload == Payload::bytes)
      copy_small(end_.out_slot().data(), out_, kBytes);
    if constexpr (kPayload == Payload::in_place) write_stamp(end_.out_slot().first(kBytes), next_out_);
    if constexpr (kWorkBefore > 0) busy_work<kWorkBefore>();
    end_.post();
    if constexpr (kWorkAfter > 0) busy_work<kWorkAfter>();
    if constexpr (kPayload >= Payload::stamped) next_out_ = make_stamp(kBytes, {std::uint64_t(side_), ++sent_});
  }
  void receive() {
    if constexpr (kPayload >= Payload::stamped) expected_ = make_stamp(kBytes, {std::uint64_t(1 - side_), received_});
    end_.wait_posted();
    if constexpr (kPayload == Payload::stamped || kPayload == Payload::bytes)
      copy_small(in_, end_.in_slot().data(), kBytes);
    if constexpr (kPayload >= Payload::stamped) {
      const std::span<const std::byte> got =
          kPayload == Payload::in_place ? end_.in_slot().first(kBytes) : std::span<const std::byte>(in_, kBytes);
      if (!stamp_matches(got, expected_)) throw std::runtime_error("probe: stamp mismatch");
      ++received_;
    }
    end_.consume();
  }

 private:
  SharedMapping memory_{sizeof(MailboxShared)};
  MailboxEnd end_;
  int side_ = 0;
  alignas(64) std::byte out_[kBytes] = {};
  alignas(64) std::byte in_[kBytes] = {};
  std::uint64_t sent_ = 0, received_ = 0;
  Stamp next_out_, expected_;
};

// ZerocopyLink's small-message logic (mechanisms/zerocopy.cpp) written out
// inline, with no call: the receiver holds a view of the peer's slot until
// its next call, a small message is built in the slot, the info word says
// where it starts.
class ZerocopyInline final : public Step {
 public:
  void open(int side) override {
    side_ = side;
    mailbox_ = MailboxEnd(memory_.as<MailboxShared>(), side == 0 ? Side::a : Side::b, WaitPolicy::spin);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side), sent_});
  }
  void round_trips(std::uint64_t n) override { ping_pong(*this, side_, n); }

  void send() {
    release_view();
    mailbox_.wait_all_consumed();
    write_stamp(mailbox_.out_slot().first(kBytes), next_out_);
    mailbox_.set_out_info(0);
    mailbox_.post();
    next_out_ = make_stamp(kBytes, {std::uint64_t(side_), ++sent_});
  }
  void receive() {
    expected_ = make_stamp(kBytes, {std::uint64_t(1 - side_), received_});
    release_view();
    mailbox_.wait_posted();
    holding_view_ = true;
    if (!stamp_matches(mailbox_.in_slot().subspan(mailbox_.in_info(), kBytes), expected_))
      throw std::runtime_error("probe: stamp mismatch");
    ++received_;
  }

 private:
  void release_view() {
    if (!holding_view_) return;
    holding_view_ = false;
    mailbox_.consume();
  }

  SharedMapping memory_{sizeof(MailboxShared)};
  MailboxEnd mailbox_;
  int side_ = 0;
  bool holding_view_ = false;
  std::uint64_t sent_ = 0, received_ = 0;
  Stamp next_out_, expected_;
};

template <class T>
std::unique_ptr<Step> make() {
  return std::make_unique<T>();
}
std::unique_ptr<Step> shm_channel() { return make_channel_step("shm", false); }
std::unique_ptr<Step> shm_pingpong() { return make_channel_step("shm", true); }
std::unique_ptr<Step> zerocopy_link() { return make_link_step("zerocopy"); }
std::unique_ptr<Step> zerocopy_stamped() { return make_link_step("zerocopy", true); }
std::unique_ptr<Step> zerocopy_channel() { return make_channel_step("zerocopy", false); }
std::unique_ptr<Step> zerocopy_pingpong() { return make_channel_step("zerocopy", true); }

}  // namespace

const std::vector<StepInfo>& all_steps() {
  static const std::vector<StepInfo> steps = {
      {"bounce", "", "one word bounced, as ci/reference/cacheline_pingpong.c", make<Bounce>},
      {"bounce-2", "bounce", "the bounce on another page: what the line's placement alone changes", make<Bounce>},
      {"state-words", "bounce", "the mailbox's state words: post, wait, a consume riding on the next post",
       make<MailboxSteps<Payload::none>>},
      {"inline-8B", "state-words", "8 bytes copied into the line's slot and out of it",
       make<MailboxSteps<Payload::bytes>>},
      {"stamps", "inline-8B", "a precomputed stamp written and checked; the next one computed after the send",
       make<MailboxSteps<Payload::stamped>>},
      {"work-before-post", "stamps",
       "6 dependent multiplies (~5 ns) between the payload's store into the line "
       "and the post",
       make<MailboxSteps<Payload::stamped, 6>>},
      {"more-before-post", "stamps", "10 of them (~9 ns) there", make<MailboxSteps<Payload::stamped, 10>>},
      {"work-after-post", "stamps", "the 10 multiplies after the post instead",
       make<MailboxSteps<Payload::stamped, 0, 10>>},
      {"shm-channel", "stamps", "the shm Link (virtual send and recv) and ipcatlas's channel around it", shm_channel},
      {"shm-pingpong", "shm-channel", "side 1 reads the clock after each send (pingpong's distribution)", shm_pingpong},
      {"in-place", "stamps", "the stamp written straight into the slot and checked there, as zerocopy does",
       make<MailboxSteps<Payload::in_place>>},
      {"zerocopy-inline", "in-place",
       "ZerocopyLink's logic written inline: a view held until the next call, "
       "the info word",
       make<ZerocopyInline>},
      {"zerocopy-link", "zerocopy-inline",
       "the zerocopy Link's virtual calls: message_memory(), the stamp in the slot, send(); recv()", zerocopy_link},
      {"zerocopy-stamped", "zerocopy-link", "send_stamped() instead: one call, the stamp stored right before the post",
       zerocopy_stamped},
      {"zerocopy-channel", "zerocopy-stamped", "ipcatlas's channel around the Link", zerocopy_channel},
      {"zerocopy-pingpong", "zerocopy-channel", "side 1 reads the clock after each send", zerocopy_pingpong},
  };
  return steps;
}

}  // namespace ipcatlas::probe
