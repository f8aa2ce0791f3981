// Error types shared by the harness, the mechanisms and the scenarios.
//
// UsageError is bad user input: the CLI prints its one-line message and exits 2.
// SysError carries the errno of a failed system call and names the call, so a
// report can say exactly what the kernel refused.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

#include "harness/base/text.hpp"

namespace ipcatlas {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SysError : public std::runtime_error {
 public:
  SysError(const std::string& what_failed, int err);
  int err() const { return err_; }
  const std::string& call() const { return call_; }  // what_failed: "pipe2", "mmap of 4096 bytes", ...

 private:
  int err_;
  std::string call_;
};

// "EPERM", "ENOSYS", ... for an errno value; "errno 1234" when unknown.
std::string errno_name(int err);

// Throws SysError(what, errno) when `result` is -1; returns it otherwise.
template <class T>
T check_sys(T result, const char* what) {
  if (result == static_cast<T>(-1)) throw SysError(what, errno);
  return result;
}

}  // namespace ipcatlas
