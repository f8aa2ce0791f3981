#include "mechanisms/support/delaying_link.hpp"

#include "harness/base/clock.hpp"

namespace ipcatlas {

void busy_wait_ns(std::uint64_t ns) {
  const std::uint64_t start = now_ns();
  while (now_ns() - start < ns) {
  }
}

void DelayingLink::send(std::span<const std::byte> msg) {
  busy_wait_ns(delay_ns_);
  inner_.send(msg);
}

void DelayingLink::send_stamped(std::size_t offset, std::size_t size, const Stamp& stamp) {
  busy_wait_ns(delay_ns_);
  inner_.send_stamped(offset, size, stamp);
}

void DelayingLink::begin_send(std::span<const std::byte> msg) {
  busy_wait_ns(delay_ns_);
  inner_.begin_send(msg);
}

void DelayingLink::send_segments(std::span<const iovec> segments) {
  busy_wait_ns(delay_ns_);
  inner_.send_segments(segments);
}

void DelayingLink::begin_send_segments(std::span<const iovec> segments) {
  busy_wait_ns(delay_ns_);
  inner_.begin_send_segments(segments);
}

std::unique_ptr<DelayingLink> delaying_link_for(const FaultPlan& fault, Link& inner) {
  if (fault.kind != FaultPlan::Kind::delay || fault.delay_ns == 0) return nullptr;
  return std::make_unique<DelayingLink>(inner, fault.delay_ns);
}

}  // namespace ipcatlas
