// Faults a test can ask for (ipcatlas run --inject-fault), to show that the
// harness catches them in every scenario: a corrupted payload becomes an
// error naming the first bad byte, a killed or hung rank becomes an error
// saying so, and the remaining benchmarks go on. And one that is no failure:
// delay:NS makes every message sent cost NS ns more (DelayingLink,
// delaying_link.hpp), a slower version of the code on which a CI regression
// gate can be shown to fire.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

// The longest delay:NS, 10 ms: a message slower than that would be a hang's business.
inline constexpr std::uint64_t kMaxFaultDelayNs = 10'000'000;

struct FaultPlan {
  enum class Kind { none, corrupt, kill, hang, delay };
  Kind kind = Kind::none;
  int rank = 1;                  // the rank that misbehaves
  std::uint64_t from_batch = 1;  // batch 0 (calibration) runs clean, so the fault hits a measurement
  // delay: ns of busy work before every message is handed to the link, in
  // every rank and from batch 0 on (rank and from_batch do not apply): it
  // models slower code, not a failure in the middle of a run.
  std::uint64_t delay_ns = 0;

  // From this batch on the fault acts (in the faulty rank, or for corrupt in its peers too).
  bool due(std::uint64_t batch) const { return kind != Kind::none && batch >= from_batch; }
  bool active(int my_rank, std::uint64_t batch) const { return due(batch) && my_rank == rank; }
};

// "corrupt", "kill", "hang" or "delay:NS" (NS: decimal digits, 0 to
// kMaxFaultDelayNs); throws UsageError otherwise, naming the text.
FaultPlan parse_fault(std::string_view text);

// The text parse_fault() reads back into `fault` ("delay:300"); "" for none.
std::string to_string(const FaultPlan& fault);

// kill: the rank SIGKILLs itself. hang: it sleeps forever. Otherwise returns.
void inject_process_fault(const FaultPlan& fault, int rank, std::uint64_t batch);

// corrupt: the messages the faulty rank receives arrive with one byte
// flipped; in a pattern where it receives none (a manytoone sender), the
// messages it sends do. Either way the byte flips on the receiving side of
// the link, after the mechanism delivered the message, so that no mechanism
// is altered and the receiver's check is what catches it. Whether rank `me`
// corrupts what arrives on its link from `peer`; `faulty_rank_receives`
// says whether the faulty rank receives any payload in the pattern.
bool corrupts_link(const FaultPlan& fault, int me, int peer, bool faulty_rank_receives);

// A Link that flips one byte in the middle of every message it receives,
// once `armed` is set: the behaviour of a broken mechanism.
class CorruptingLink final : public Link {
 public:
  explicit CorruptingLink(Link& inner) : inner_(inner) {}
  void arm() { armed_ = true; }

  void open(Side side, pid_t peer) override { inner_.open(side, peer); }
  std::span<std::byte> message_memory(std::size_t bytes) override { return inner_.message_memory(bytes); }
  void send(std::span<const std::byte> msg) override { inner_.send(msg); }
  void send_stamped(std::size_t offset, std::size_t size, const Stamp& stamp) override {
    inner_.send_stamped(offset, size, stamp);
  }
  std::span<const std::byte> recv(std::span<std::byte> into) override;
  void send_segments(std::span<const iovec> segments) override { inner_.send_segments(segments); }
  // Flips a byte in the middle of the middle segment.
  void recv_segments(std::span<const iovec> segments) override;

 private:
  Link& inner_;
  bool armed_ = false;
};

}  // namespace ipcatlas
