// Passing one file descriptor to the peer over an AF_UNIX socket, as
// SCM_RIGHTS ancillary data: the eventfd doorbells (eventfd_doorbell.hpp)
// and the memfds of memfd-map (memfd_link.hpp).
#pragma once

#include "mechanisms/support/fd_io.hpp"

namespace ipcatlas {

// Sends fd on `socket` (SOCK_SEQPACKET or SOCK_STREAM) beside a tag byte.
// The socket's buffer must have room: this never waits for the peer.
// Throws SysError naming `what` ("this side's eventfd").
void send_fd(int socket, int fd, const char* what);

// Waits for the peer's descriptor (through blocking_call(), as every wait
// for the peer); the received one is close-on-exec. Throws SysError, or
// std::runtime_error when the peer's message carried no descriptor.
Fd receive_fd(int socket, const char* what);

}  // namespace ipcatlas
