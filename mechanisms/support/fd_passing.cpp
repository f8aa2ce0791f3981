#include "mechanisms/support/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness/base/error.hpp"
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

}  // namespace

void send_fd(int socket, int fd, const char* what) {
  RightsMessage m(kTag);
  cmsghdr* header = CMSG_FIRSTHDR(&m.msg);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  while (sendmsg(socket, &m.msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) throw SysError(std::string("sendmsg of ") + what + " (SCM_RIGHTS)", errno);
}

Fd receive_fd(int socket, const char* what) {
  RightsMessage m(0);
  ssize_t n;
  while ((n = blocking_call([&] { return recvmsg(socket, &m.msg, MSG_CMSG_CLOEXEC); })) < 0)
    if (errno != EINTR) throw SysError(std::string("recvmsg of ") + what + " (SCM_RIGHTS)", errno);
  const cmsghdr* header = CMSG_FIRSTHDR(&m.msg);
  if (n != 1 || m.tag != kTag || header == nullptr || header->cmsg_level != SOL_SOCKET ||
      header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(sizeof(int)))
    throw std::runtime_error(std::string("the peer's message carried no descriptor (") + what +
                             "; did the peer exit?)");
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return Fd(fd);
}

}  // namespace ipcatlas
