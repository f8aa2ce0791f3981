#include "mechanisms/support/fault_injection.hpp"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "harness/base/error.hpp"

namespace ipcatlas {

namespace {

constexpr std::string_view kDelayPrefix = "delay:";

// NS of "delay:NS": decimal digits only (from_chars takes no sign, blank or exponent), at most kMaxFaultDelayNs.
std::uint64_t parse_delay_ns(std::string_view text) {
  const std::string_view digits = text.substr(kDelayPrefix.size());
  std::uint64_t ns = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), ns);
  if (error != std::errc{} || end != digits.data() + digits.size() || ns > kMaxFaultDelayNs)
    throw UsageError("invalid fault '" + std::string(text) + "': delay:NS takes NS, whole nanoseconds from 0 to " +
                     std::to_string(kMaxFaultDelayNs) + " (10 ms)");
  return ns;
}

}  // namespace

FaultPlan parse_fault(std::string_view text) {
  FaultPlan plan;
  if (text.starts_with(kDelayPrefix)) {
    plan.kind = FaultPlan::Kind::delay;
    plan.delay_ns = parse_delay_ns(text);
    return plan;
  }
  if (text == "corrupt") plan.kind = FaultPlan::Kind::corrupt;
  else if (text == "kill") plan.kind = FaultPlan::Kind::kill;
  else if (text == "hang") plan.kind = FaultPlan::Kind::hang;
  else throw UsageError("invalid fault '" + std::string(text) + "' (expected corrupt, kill, hang or delay:NS)");
  return plan;
}

std::string to_string(const FaultPlan& fault) {
  switch (fault.kind) {
    case FaultPlan::Kind::none: return "";
    case FaultPlan::Kind::corrupt: return "corrupt";
    case FaultPlan::Kind::kill: return "kill";
    case FaultPlan::Kind::hang: return "hang";
    case FaultPlan::Kind::delay: return std::string(kDelayPrefix) + std::to_string(fault.delay_ns);
  }
  return "";
}

void inject_process_fault(const FaultPlan& fault, int rank, std::uint64_t batch) {
  if (!fault.active(rank, batch)) return;
  if (fault.kind == FaultPlan::Kind::kill) raise(SIGKILL);
  if (fault.kind == FaultPlan::Kind::hang)
    for (;;) pause();
}

bool corrupts_link(const FaultPlan& fault, int me, int peer, bool faulty_rank_receives) {
  if (fault.kind != FaultPlan::Kind::corrupt) return false;
  return faulty_rank_receives ? me == fault.rank : peer == fault.rank;
}

std::span<const std::byte> CorruptingLink::recv(std::span<std::byte> into) {
  const std::span<const std::byte> got = inner_.recv(into);
  if (!armed_ || got.empty()) return got;
  if (got.data() != into.data()) std::memcpy(into.data(), got.data(), got.size());
  into[into.size() / 2] ^= std::byte{0x40};
  return into;
}

void CorruptingLink::recv_segments(std::span<const iovec> segments) {
  inner_.recv_segments(segments);
  if (!armed_ || segments.empty()) return;
  const iovec& middle = segments[segments.size() / 2];
  if (middle.iov_len > 0) static_cast<std::byte*>(middle.iov_base)[middle.iov_len / 2] ^= std::byte{0x40};
}

}  // namespace ipcatlas
