#include "mechanisms/support/eventfd_doorbell.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "harness/base/error.hpp"
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/fd_passing.hpp"

namespace ipcatlas {

EventfdDoorbell::EventfdDoorbell(WaitPolicy policy) {
  if (policy == WaitPolicy::eventfd)
    make_socket_pair(SOCK_SEQPACKET, "socketpair for the eventfd doorbells", socket_[0], socket_[1]);
}

void EventfdDoorbell::open(Side side) {
  if (socket_[0].get() < 0) return;  // no socketpair: the policy is not eventfd
  // Non-blocking: the drain after a wake must not sleep when a ring was
  // already consumed (eventfd_sleep() in wait.hpp).
  mine_ = Fd(check_sys(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd"));
  epoll_ = Fd(check_sys(epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
  epoll_event interest{};
  interest.events = EPOLLIN;
  interest.data.fd = mine_.get();
  check_sys(epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, mine_.get(), &interest), "epoll_ctl(EPOLL_CTL_ADD) of the eventfd");
  const int me = index_of(side);
  socket_[1 - me].reset();  // the peer's end: only the peer uses it
  send_fd(socket_[me].get(), mine_.get(), "this side's eventfd");
  peers_ = receive_fd(socket_[me].get(), "the peer's eventfd");
  socket_[me].reset();
}

}  // namespace ipcatlas
