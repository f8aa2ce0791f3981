// Running out of a resource is not being unavailable.
//
// A call that fails with EAGAIN, EMFILE, ENFILE or ENOMEM hit a limit on
// processes, file descriptors or memory. That says nothing about the
// mechanism being probed, which may work fine with a higher limit, so a
// probe that fails so is a failure (Availability::failure), never a skip.
// Its reason names the call, the errno and the limit as getrlimit reads it
// in this process (which the probe's children inherit):
//
//   EAGAIN from fork: this user has reached RLIMIT_NPROC=3 processes (uid 65534; ...)
//   EMFILE from pipe2: this process has reached RLIMIT_NOFILE=6 open file descriptors
#pragma once

#include <exception>
#include <string>

#include "harness/base/availability.hpp"

namespace ipcatlas {

// EAGAIN, EMFILE, ENFILE or ENOMEM: the kernel ran short of, or a limit
// capped, processes, file descriptors or memory.
bool is_resource_errno(int err);

// "<ERRNO> from <call>: <the limit and its value>", as a failed Availability
// whose fix says which limit to raise. `err` must be a resource errno.
Availability resource_failure(const std::string& call, int err);

// What a probe that caught `e` reports: resource_failure() when e is a
// SysError with a resource errno (its call named), otherwise unavailable
// with e.what() and `fix`.
Availability probe_error(const std::exception& e, const std::string& fix);

}  // namespace ipcatlas
