#include "mechanisms/mailbox.hpp"

namespace ipcatlas {

MailboxEnd::MailboxEnd(MailboxShared* shared, Side side, WaitPolicy policy)
    : shared_(shared),
      out_(index_of(side)),
      in_(index_of(other(side))),
      waiting_{policy, &shared->sleepers[index_of(side)], &shared->sleepers[index_of(other(side))]} {}

void MailboxEnd::wait_all_consumed() {
  const std::uint32_t want = posted_;
  wait_until(line().consumed[out_], [want](std::uint32_t v) { return v == want; }, waiting_);
}

void MailboxEnd::post() { publish(line().posted[out_], ++posted_, waiting_); }

void MailboxEnd::wait_posted() {
  const std::uint32_t want = received_ + 1;
  // Signed distance, so a sender that runs ahead (posting twice) cannot be missed.
  wait_until(line().posted[in_], [want](std::uint32_t v) { return static_cast<std::int32_t>(v - want) >= 0; },
             waiting_);
  received_ = want;
}

void MailboxEnd::consume() { publish(line().consumed[in_], received_, waiting_); }

}  // namespace ipcatlas
