// The probe's steps through a registered mechanism's Link, and through
// ipcatlas's channel (scenarios/support/channel.hpp) as pingpong drives it.
#include <stdexcept>

#include "harness/base/clock.hpp"
#include "harness/ranks/payload.hpp"
#include "mechanisms/registry.hpp"
#include "protocol_steps.hpp"
#include "scenarios/support/channel.hpp"

namespace ipcatlas::probe {
namespace {

constexpr std::size_t kBytes = kProbeBytes;

std::unique_ptr<Link> make_link_of(std::string_view mechanism) {
  const Mechanism* m = find_mechanism(mechanism);
  if (m == nullptr) throw std::logic_error("probe: no such mechanism");
  return m->make_link(LinkConfig{kBytes, WaitPolicy::spin, -1, 1});
}

// The Link's own send and recv (virtual calls), with stamps handled as the
// channel handles them: a message built in link memory (zerocopy) takes its
// stamp there; in a buffer of our own it is written as soon as the send
// before it completes.
class LinkStep final : public Step {
 public:
  LinkStep(std::string_view mechanism, bool stamped) : link_(make_link_of(mechanism)), stamped_(stamped) {}
  void open(int side) override {
    side_ = side;
    link_->open(side == 0 ? Side::a : Side::b, 0);
    next_out_ = make_stamp(kBytes, {std::uint64_t(side), sent_});
    in_place_ = !link_->message_memory(kBytes).empty();
    if (!in_place_) write_stamp(out_, next_out_);
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
    if (in_place_ && stamped_) {
      link_->send_stamped(0, kBytes, next_out_);
    } else if (in_place_) {
      const std::span<std::byte> msg = link_->message_memory(kBytes).first(kBytes);
      write_stamp(msg, next_out_);
      link_->send(msg);
    } else {
      link_->send(out_);
    }
    next_out_ = make_stamp(kBytes, {std::uint64_t(side_), ++sent_});
    if (!in_place_) write_stamp(out_, next_out_);
  }
  void receive() {
    expected_ = make_stamp(kBytes, {std::uint64_t(1 - side_), received_});
    if (!stamp_matches(link_->recv(in_), expected_)) throw std::runtime_error("probe: stamp mismatch");
    ++received_;
  }

  std::unique_ptr<Link> link_;
  bool stamped_;  // send_stamped() rather than message_memory(), the stamp, send()
  int side_ = 0;
  bool in_place_ = false;  // the link lends the memory of outgoing messages (zerocopy)
  alignas(64) std::byte out_buffer_[kBytes] = {};
  alignas(64) std::byte in_buffer_[kBytes] = {};
  std::span<std::byte> out_{out_buffer_, kBytes}, in_{in_buffer_, kBytes};
  std::uint64_t sent_ = 0, received_ = 0;
  Stamp next_out_, expected_;
};

// ipcatlas's channel over the Link, as pingpong drives it; with `clock`,
// side 1 also reads the clock after each send, as pingpong's rank 1 does to
// record the per-message distribution.
class ChannelStep final : public Step {
 public:
  ChannelStep(std::string_view mechanism, bool clock) : link_(make_link_of(mechanism)), clock_(clock) {}
  void open(int side) override {
    side_ = side;
    channel_ = std::make_unique<PeerChannel>(*link_, side, 1 - side, ChannelBuffers{kBytes, 0, 1, -1, 1}, 42);
    channel_->open(0);
    channel_->begin_batch(0);
    last_tick_ = cpu_ticks();
  }
  void round_trips(std::uint64_t n) override {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (side_ == 0) {
        channel_->send();
        channel_->recv(Check::stamp);
      } else {
        channel_->recv(Check::stamp);
        channel_->send();
        if (clock_) record_interval();
      }
    }
  }

 private:
  void record_interval() {
    const std::uint64_t now = cpu_ticks();  // as pingpong.cpp
    intervals_[samples_++ % intervals_.size()] = now - last_tick_;
    last_tick_ = now;
  }

  std::unique_ptr<Link> link_;
  bool clock_;
  std::unique_ptr<PeerChannel> channel_;
  int side_ = 0;
  std::vector<std::uint64_t> intervals_ = std::vector<std::uint64_t>(1 << 16);
  std::uint64_t samples_ = 0, last_tick_ = 0;
};

}  // namespace

std::unique_ptr<Step> make_link_step(std::string_view mechanism, bool stamped) {
  return std::make_unique<LinkStep>(mechanism, stamped);
}

std::unique_ptr<Step> make_channel_step(std::string_view mechanism, bool clock) {
  return std::make_unique<ChannelStep>(mechanism, clock);
}

}  // namespace ipcatlas::probe
