// The eventfds a link's ranks wake each other through under --wait eventfd,
// set up as the Mercury shared-memory plugin's design has it (seed:
// mercury-sm-plugin-design.md): each side creates its own eventfd and passes
// it to the peer over a UNIX socket as SCM_RIGHTS ancillary data.
//
//   driver, before fork: EventfdDoorbell(eventfd) creates an AF_UNIX
//       socketpair, one end per side (both ranks inherit both ends);
//   each rank, in Link::open(side): open(side) creates this side's eventfd
//       and an epoll set holding it, sends the eventfd on its end, receives
//       the peer's, and closes both ends of the socketpair;
//   from then on: fds() for the mailbox's Waiting (harness/ranks/wait.hpp):
//       this side sleeps in epoll_wait() on its epoll set and drains its
//       eventfd, and write()s the peer's eventfd to wake it.
//
// Why the ranks create the eventfds rather than the driver (which could make
// both before fork): that is the seed's design, and it keeps the driver and
// the ranks of other links from holding a link's eventfds.
//
// With any other policy it holds nothing and open() does nothing. Every
// descriptor is closed when the doorbell is destroyed.
#pragma once

#include "harness/ranks/wait.hpp"
#include "mechanisms/support/fd_io.hpp"

namespace ipcatlas {

enum class Side : int;

class EventfdDoorbell {
 public:
  // Creates the socketpair when policy is eventfd. Throws SysError.
  explicit EventfdDoorbell(WaitPolicy policy);
  EventfdDoorbell(const EventfdDoorbell&) = delete;
  EventfdDoorbell& operator=(const EventfdDoorbell&) = delete;

  // In the rank, after fork: exchanges eventfds with the peer (waits until
  // the peer has sent its own). Throws SysError, or std::runtime_error when
  // the peer sent no descriptor.
  void open(Side side);

  // All -1 before open() or when the policy is not eventfd.
  EventfdFds fds() const { return {epoll_.get(), mine_.get(), peers_.get()}; }

 private:
  Fd socket_[2];  // end s belongs to side s, until open()
  Fd mine_, epoll_, peers_;
};

}  // namespace ipcatlas
