#include "protocol_steps.hpp"

#include <atomic>
#include <stdexcept>

#include "harness/base/clock.hpp"
#include "harness/machine/shared_memory.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/registry.hpp"
#include "mechanisms/support/mailbox.hpp"
#include "scenarios/support/channel.hpp"

namespace ipcatlas::probe {
namespace {

constexpr std::size_t kBytes = 8;

std::unique_ptr<Link> make_link_of(std::string_view mechanism) {
  const Mechanism* m = find_mechanism(mechanism);
  if (m == nullptr) throw std::logic_error("probe: no such mechanism");
  return m->make_link(LinkConfig{kBytes, WaitPolicy::spin, -1, 1});
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

// The mailbox line's protocol, as shm and zerocopy use it, with a payload
// of `Payload` (none, the inline bytes, or the bytes and their stamps).
enum class Payload { none, bytes, stamped };

template <Payload kPayload>
class MailboxSteps final : public Step {
 public:
  void open(int side) override {
    side_ = side;
    end_ = MailboxEnd(memory_.as<MailboxShared>(), side == 0 ? Side::a : Side::b, WaitPolicy::spin);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side), sent_});
  }
  void round_trips(std::uint64_t n) override {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (side_ == 0) {
        send();
        receive();
      } else {
        receive();
        send();
      }
    }
  }

 private:
  void send() {
    end_.wait_all_consumed();
    if constexpr (kPayload == Payload::stamped) write_stamp(out_, next_out_);
    if constexpr (kPayload != Payload::none) copy_small(end_.out_slot().data(), out_, kBytes);
    end_.post();
    if constexpr (kPayload == Payload::stamped) next_out_ = make_stamp(kBytes, {std::uint64_t(side_), ++sent_});
  }
  void receive() {
    if constexpr (kPayload == Payload::stamped) expected_ = make_stamp(kBytes, {std::uint64_t(1 - side_), received_});
    end_.wait_posted();
    if constexpr (kPayload != Payload::none) copy_small(in_, end_.in_slot().data(), kBytes);
    if constexpr (kPayload == Payload::stamped) {
      if (!stamp_matches({in_, kBytes}, expected_)) throw std::runtime_error("probe: stamp mismatch");
      ++received_;
    }
    end_.consume();
  }

  SharedMapping memory_{sizeof(MailboxShared)};
  MailboxEnd end_;
  int side_ = 0;
  alignas(64) std::byte out_[kBytes] = {};
  alignas(64) std::byte in_[kBytes] = {};
  std::uint64_t sent_ = 0, received_ = 0;
  Stamp next_out_, expected_;
};

// The stamps step through a registered mechanism's Link (its virtual send
// and recv and its own mailbox), without ipcatlas's channel around it.
class LinkStep final : public Step {
 public:
  explicit LinkStep(std::string_view mechanism) : link_(make_link_of(mechanism)) {}
  void open(int side) override {
    side_ = side;
    link_->open(side == 0 ? Side::a : Side::b, 0);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side), sent_});
  }
  void round_trips(std::uint64_t n) override {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (side_ == 0) {
        send();
        receive();
      } else {
        receive();
        send();
      }
    }
  }

 private:
  void send() {
    write_stamp(out_, next_out_);
    link_->send(out_);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side_), ++sent_});
  }
  void receive() {
    expected_ = make_stamp(kBytes, {std::uint64_t(1 - side_), received_});
    if (!stamp_matches(link_->recv(in_), expected_)) throw std::runtime_error("probe: stamp mismatch");
    ++received_;
  }

  std::unique_ptr<Link> link_;
  int side_ = 0;
  alignas(64) std::byte out_buffer_[kBytes] = {};
  alignas(64) std::byte in_buffer_[kBytes] = {};
  std::span<std::byte> out_{out_buffer_, kBytes}, in_{in_buffer_, kBytes};
  std::uint64_t sent_ = 0, received_ = 0;
  Stamp next_out_, expected_;
};

// The mailbox's state words written out inline here, with no call on the
// path: the same line layout, loads and stores as MailboxEnd under spin.
class InlineStateWords final : public Step {
 public:
  void open(int side) override {
    me_ = side;
    line_ = &memory_.as<MailboxShared>()->line;
  }
  void round_trips(std::uint64_t n) override {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (me_ == 0) {
        send();
        receive();
      } else {
        receive();
        send();
      }
    }
  }

 private:
  std::uint32_t peer_half(int half) const {
    return static_cast<std::uint32_t>(line_->state[1 - me_].load(std::memory_order_acquire) >> (32 * half));
  }
  void send() {
    while (peer_half(1) != posted_) cpu_relax();
    ++posted_;
    publish();
  }
  void receive() {
    const std::uint32_t want = received_ + 1;
    if (static_cast<std::int32_t>(peer_half(0) - want) < 0) {
      if (published_consumed_ != received_) publish();  // never wait holding a consume
      while (static_cast<std::int32_t>(peer_half(0) - want) < 0) cpu_relax();
    }
    received_ = want;
  }
  void publish() {
    line_->state[me_].store(posted_ | (std::uint64_t{received_} << 32), std::memory_order_release);
    published_consumed_ = received_;
  }

  SharedMapping memory_{sizeof(MailboxShared)};
  MailboxShared::Line* line_ = nullptr;
  int me_ = 0;
  std::uint32_t posted_ = 0, received_ = 0, published_consumed_ = 0;
};

// ipcatlas's own channel over a registered mechanism's Link, as pingpong
// drives it; with `kClock`, side 1 also reads the clock after each send, as
// pingpong's rank 1 does to record the per-message distribution.
template <bool kClock>
class ChannelStep final : public Step {
 public:
  explicit ChannelStep(std::string_view mechanism) : link_(make_link_of(mechanism)) {}
  void open(int side) override {
    side_ = side;
    channel_ = std::make_unique<PeerChannel>(*link_, side, 1 - side, ChannelBuffers{kBytes, 0, 1, -1, 1}, 42);
    channel_->open(0);
    channel_->begin_batch(0);
    last_ns_ = cpu_ticks();
  }
  void round_trips(std::uint64_t n) override {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (side_ == 0) {
        channel_->send();
        channel_->recv(Check::stamp);
      } else {
        channel_->recv(Check::stamp);
        channel_->send();
        if constexpr (kClock) record_interval();
      }
    }
  }

 private:
  void record_interval() {
    const std::uint64_t now = cpu_ticks();  // as pingpong.cpp
    intervals_[samples_++ % intervals_.size()] = now - last_ns_;
    last_ns_ = now;
  }

  std::unique_ptr<Link> link_;
  std::unique_ptr<PeerChannel> channel_;
  int side_ = 0;
  std::vector<std::uint64_t> intervals_ = std::vector<std::uint64_t>(1 << 16);
  std::uint64_t samples_ = 0, last_ns_ = 0;
};

template <class T, auto... kArgs>
std::unique_ptr<Step> make() {
  return std::make_unique<T>(kArgs...);
}

std::unique_ptr<Step> shm_link() { return std::make_unique<LinkStep>("shm"); }
std::unique_ptr<Step> shm_channel() { return std::make_unique<ChannelStep<false>>("shm"); }
std::unique_ptr<Step> shm_pingpong() { return std::make_unique<ChannelStep<true>>("shm"); }
std::unique_ptr<Step> zerocopy_channel() { return std::make_unique<ChannelStep<false>>("zerocopy"); }
std::unique_ptr<Step> zerocopy_pingpong() { return std::make_unique<ChannelStep<true>>("zerocopy"); }

}  // namespace

const std::vector<StepInfo>& all_steps() {
  static const std::vector<StepInfo> steps = {
      {"bounce", "", "one word bounced, as ci/reference/cacheline_pingpong.c", make<Bounce>},
      {"bounce-2", "bounce", "the bounce on another page (what the line's placement alone changes)", make<Bounce>},
      {"state-words", "bounce", "the mailbox's state words: post, wait, consume riding on the next post",
       make<MailboxSteps<Payload::none>>},
      {"inline-state", "bounce", "the same written out inline in the probe, for comparison", make<InlineStateWords>},
      {"inline-8B", "state-words", "8 bytes copied into the line's slot and out of it",
       make<MailboxSteps<Payload::bytes>>},
      {"stamps", "inline-8B", "a precomputed stamp written and checked; the next one computed after the send",
       make<MailboxSteps<Payload::stamped>>},
      {"shm-link", "stamps", "through the shm Link's virtual send and recv", shm_link},
      {"shm-channel", "shm-link", "ipcatlas's channel around the Link (buffers, sequence numbers)", shm_channel},
      {"shm-pingpong", "shm-channel", "side 1 reads the clock after each send (pingpong's distribution)", shm_pingpong},
      {"zerocopy-channel", "stamps", "ipcatlas's channel and the zerocopy Link, built in place", zerocopy_channel},
      {"zerocopy-pingpong", "zerocopy-channel", "side 1 reads the clock after each send", zerocopy_pingpong},
  };
  return steps;
}

}  // namespace ipcatlas::probe
