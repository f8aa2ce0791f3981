#include "harness/base/error.hpp"

#include <cstring>

namespace ipcatlas {

SysError::SysError(const std::string& what_failed, int err)
    : std::runtime_error(what_failed + ": " + errno_name(err) + " (" + std::strerror(err) + ")"),
      err_(err),
      call_(what_failed) {}

std::string errno_name(int err) {
  // strerrorname_np is glibc 2.32+; Debian 12 has 2.36.
  if (const char* name = strerrorname_np(err)) return name;
  return "errno " + std::to_string(err);
}

}  // namespace ipcatlas
