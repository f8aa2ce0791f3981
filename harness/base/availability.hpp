// What a mechanism's probe answers (mechanisms/mechanism.hpp). It lives in
// the base layer because resource_limits.hpp builds failed ones.
#pragma once

#include <string>
#include <utility>

namespace ipcatlas {

// Whether a mechanism works here and, if not, exactly why and how to fix it.
//
// A probe that ran out of a resource (a process, a file descriptor, memory:
// EAGAIN, EMFILE, ENFILE, ENOMEM) learnt nothing about the mechanism, which
// may work fine with a higher limit. Calling that "unavailable" would turn a
// broken run into a quiet skip, so such a probe is `failed`: not available,
// and its benchmarks fail (harness/base/resource_limits.hpp names the limit).
struct Availability {
  bool available = true;
  bool failed = false;  // not available because the probe itself failed for lack of a resource
  std::string reason;   // e.g. "EPERM from process_vm_readv: Yama ptrace_scope=2 needs CAP_SYS_PTRACE"
  std::string fix;      // e.g. "run as root, or sysctl kernel.yama.ptrace_scope=1"

  static Availability yes() { return {}; }
  static Availability no(std::string reason, std::string fix) {
    return {false, false, std::move(reason), std::move(fix)};
  }
  static Availability failure(std::string reason, std::string fix) {
    return {false, true, std::move(reason), std::move(fix)};
  }
};

}  // namespace ipcatlas
