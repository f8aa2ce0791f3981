#include "mechanisms/support/mailbox.hpp"

#include "harness/base/error.hpp"
#include "harness/base/resource_limits.hpp"
#include "harness/machine/shared_memory.hpp"

namespace ipcatlas {

Availability probe_shared_memory() {
  try {
    SharedMapping probe(4096);
  } catch (const SysError& e) {
    return probe_error(e, "check the memory limits (ulimit -v, cgroup memory.max)");
  }
  return Availability::yes();
}

namespace {
constexpr int kPostedHalf = 0;
constexpr int kConsumedHalf = 1;
}  // namespace

MailboxEnd::MailboxEnd(MailboxShared* shared, Side side, WaitPolicy policy, EventfdFds doorbells)
    : shared_(shared),
      me_(index_of(side)),
      peer_(index_of(other(side))),
      waiting_{policy, &shared->sleepers[index_of(side)], &shared->sleepers[index_of(other(side))], doorbells} {}

MailboxEnd& MailboxEnd::operator=(const MailboxEnd& other) {
  forget_deferred_signal(this);
  shared_ = other.shared_;
  me_ = other.me_;
  peer_ = other.peer_;
  posted_ = other.posted_;
  received_ = other.received_;
  consumed_ = other.consumed_;
  waiting_ = other.waiting_;
  return *this;
}

void MailboxEnd::publish_state() {
  forget_deferred_signal(this);
  publish(line().state[me_], posted_ | (std::uint64_t{consumed_} << 32), waiting_);
}

void MailboxEnd::wait_all_consumed() {
  const std::uint32_t want = posted_;
  wait_until_half(
      line().state[peer_], kConsumedHalf, [want](std::uint32_t v) { return v == want; }, waiting_);
}

void MailboxEnd::consume() {
  consumed_ = received_;
  defer_signal(this);
}

void MailboxEnd::post() {
  ++posted_;
  publish_state();
}

void MailboxEnd::wait_posted() {
  const std::uint32_t want = received_ + 1;
  // Signed distance, so a sender that runs ahead (posting twice) cannot be missed.
  wait_until_half(
      line().state[peer_], kPostedHalf, [want](std::uint32_t v) { return static_cast<std::int32_t>(v - want) >= 0; },
      waiting_);
  received_ = want;
}

}  // namespace ipcatlas
