#include "mechanisms/support/eventfd_doorbell.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "harness/base/error.hpp"
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/blocking_call.hpp"

namespace ipcatlas {
namespace {

// One byte of payload: a message must carry at least one for its ancillary
// data to travel on a SOCK_SEQPACKET socket.
constexpr char kTag = 'E';

// One SCM_RIGHTS message carrying one descriptor beside its tag byte: the
// same layout to send and to receive into. It points into itself, so it
// is neither copied nor moved.
struct RightsMessage {
  char tag;
  iovec iov{&tag, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  msghdr msg{};

  explicit RightsMessage(char initial_tag) : tag(initial_tag) {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  RightsMessage(const RightsMessage&) = delete;
  RightsMessage& operator=(const RightsMessage&) = delete;
};

void send_fd(int socket, int fd) {
  RightsMessage m(kTag);
  cmsghdr* header = CMSG_FIRSTHDR(&m.msg);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  // The socket's buffer is empty: this never waits for the peer.
  while (sendmsg(socket, &m.msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) throw SysError("sendmsg of this side's eventfd (SCM_RIGHTS)", errno);
}

// Waits for the peer's descriptor; the received one is close-on-exec.
Fd receive_fd(int socket) {
  RightsMessage m(0);
  ssize_t n;
  // Sleeps until the peer has sent: through blocking_call(), as every wait for the peer.
  while ((n = blocking_call([&] { return recvmsg(socket, &m.msg, MSG_CMSG_CLOEXEC); })) < 0)
    if (errno != EINTR) throw SysError("recvmsg of the peer's eventfd (SCM_RIGHTS)", errno);
  const cmsghdr* header = CMSG_FIRSTHDR(&m.msg);
  if (n != 1 || m.tag != kTag || header == nullptr || header->cmsg_level != SOL_SOCKET ||
      header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(sizeof(int)))
    throw std::runtime_error("eventfd doorbell: the peer's message carried no eventfd (did it exit?)");
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return Fd(fd);
}

}  // namespace

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
  send_fd(socket_[me].get(), mine_.get());
  peers_ = receive_fd(socket_[me].get());
  socket_[me].reset();
}

}  // namespace ipcatlas
