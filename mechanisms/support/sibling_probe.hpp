// Probing an access to another process's memory the way ranks make it: from
// one child of the caller to its sibling, each having declared the other
// (allow_peer_access), so that Yama, seccomp and user namespaces answer as
// they would in a run.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace ipcatlas {

// How a sibling probe ended. err is 0 when the attempt succeeded. Otherwise
// it is the errno, and `call` names the probe's own call that failed
// ("pipe2", "fork"), so that running out of processes or file descriptors is
// never blamed on the access; `call` is empty when err is the attempt's own
// (or EIO when the accessor died without a result, ETIMEDOUT when it hung).
struct SiblingResult {
  int err = 0;
  std::string call;
};

// Two sibling processes: a target that declares the accessor with
// allow_peer_access() and an accessor that runs attempt(target_pid, address
// of a 64-byte buffer in the target holding bytes 0..63). attempt returns 0
// on success or an errno. Leaves no process behind.
SiblingResult try_sibling_access(const std::function<int(pid_t target, const void* target_buffer)>& attempt);

}  // namespace ipcatlas
