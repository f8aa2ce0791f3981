// --inject-fault delay:NS: every message costs its sender NS ns more, spent
// busy in the sending rank right before the message is handed to the link.
// It is a slower version of the code, not a failure: it acts in every rank
// and from the first batch on (calibration included), and every byte still
// arrives as before. What it is for: proving that a CI regression gate fires
// on a real slowdown of the measured path (ci/ and README, "Faults and
// cleanup").
//
// One delay per message: send(), send_stamped(), begin_send() and their
// scatter/gather forms (once per message, not per segment); the empty
// acknowledgements of stream are messages too. Receiving is not delayed.
// Everything else is forwarded untouched, the split-phase calls included, so
// that a mechanism overlaps its transfers exactly as it does without the
// wrapper. With NS = 0 no wrapper is installed at all (delaying_link_for).
#pragma once

#include <cstdint>
#include <memory>

#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/fault_injection.hpp"

namespace ipcatlas {

// Spins, reading the clock every measurement uses (now_ns()), until at least
// `ns` ns have passed since the call began: never sleeps, never returns
// early, and the clock reads are calls the compiler cannot drop. It overshoots
// by up to one clock read (~30 ns in a KVM guest).
void busy_wait_ns(std::uint64_t ns);

class DelayingLink final : public Link {
 public:
  DelayingLink(Link& inner, std::uint64_t delay_ns) : inner_(inner), delay_ns_(delay_ns) {}

  void open(Side side, pid_t peer) override { inner_.open(side, peer); }
  std::span<std::byte> message_memory(std::size_t bytes) override { return inner_.message_memory(bytes); }

  void send(std::span<const std::byte> msg) override;
  void send_stamped(std::size_t offset, std::size_t size, const Stamp& stamp) override;
  std::span<const std::byte> recv(std::span<std::byte> into) override { return inner_.recv(into); }

  void begin_send(std::span<const std::byte> msg) override;
  void end_send() override { inner_.end_send(); }
  void begin_recv(std::span<std::byte> into) override { inner_.begin_recv(into); }
  std::span<const std::byte> end_recv() override { return inner_.end_recv(); }

  void send_segments(std::span<const iovec> segments) override;
  void recv_segments(std::span<const iovec> segments) override { inner_.recv_segments(segments); }
  void begin_send_segments(std::span<const iovec> segments) override;
  void end_send_segments() override { inner_.end_send_segments(); }
  void begin_recv_segments(std::span<const iovec> segments) override { inner_.begin_recv_segments(segments); }
  void end_recv_segments() override { inner_.end_recv_segments(); }

 private:
  Link& inner_;
  std::uint64_t delay_ns_;
};

// Under delay:NS with NS > 0, a DelayingLink around `inner`; otherwise null,
// and the rank uses `inner` itself.
std::unique_ptr<DelayingLink> delaying_link_for(const FaultPlan& fault, Link& inner);

}  // namespace ipcatlas
