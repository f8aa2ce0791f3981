// Test tool: runs a command under a seccomp filter that makes the named
// system calls fail with EPERM, as a container's seccomp profile does.
//
//   ipcatlas_deny_syscalls process_vm_readv,ptrace -- ipcatlas list --json
//
// Lets the end-to-end tests show, on a machine without such a profile, that
// ipcatlas names the seccomp filter as the cause. libseccomp builds the
// filter, so it resolves the names and checks the architecture on whatever
// machine this runs (hand-written BPF was x86-64 only).
#include <seccomp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// Owns a libseccomp filter context, so every exit path releases it.
class Filter {
 public:
  // Everything not named later is allowed.
  Filter() : ctx_(seccomp_init(SCMP_ACT_ALLOW)) {}
  ~Filter() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s SYSCALL[,SYSCALL...] -- COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  Filter filter;
  if (filter.get() == nullptr) {
    std::fprintf(stderr, "%s: seccomp_init failed\n", argv[0]);
    return 1;
  }
  // libseccomp's default for a syscall of another ABI (x32, or i386 on
  // x86-64) is to kill the process; a container's profile, like the filter
  // this replaces, lets what it does not name through.
  int rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  const std::string list = argv[1];
  for (std::size_t start = 0; rc == 0 && start <= list.size();) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      std::fprintf(stderr, "%s: unknown system call '%s'\n", argv[0], name.c_str());
      return 2;
    }
    rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(EPERM), nr, 0);
    start = comma + 1;
  }
  // seccomp_load sets NO_NEW_PRIVS first (its default), which an unprivileged
  // caller needs to install a filter.
  if (rc == 0) rc = seccomp_load(filter.get());
  if (rc != 0) {
    std::fprintf(stderr, "installing the seccomp filter: %s\n", std::strerror(-rc));
    return 1;
  }
  execvp(argv[3], argv + 3);
  std::perror(argv[3]);
  return 127;
}
