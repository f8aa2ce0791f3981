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

}  // namespace ipcatlas
