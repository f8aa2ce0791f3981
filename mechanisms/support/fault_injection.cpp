#include "mechanisms/support/fault_injection.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "harness/base/error.hpp"

namespace ipcatlas {

FaultPlan parse_fault(std::string_view text) {
  FaultPlan plan;
  if (text == "corrupt") plan.kind = FaultPlan::Kind::corrupt;
  else if (text == "kill") plan.kind = FaultPlan::Kind::kill;
  else if (text == "hang") plan.kind = FaultPlan::Kind::hang;
  else throw UsageError("invalid fault '" + std::string(text) + "' (expected corrupt, kill or hang)");
  return plan;
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
