// Test tool: runs a command under a seccomp filter that makes the named
// system calls fail with EPERM, as a container's seccomp profile does.
//
//   ipcatlas_deny_syscalls process_vm_readv,ptrace -- ipcatlas list --json
//
// Lets the end-to-end tests show, on a machine without such a profile, that
// ipcatlas names the seccomp filter as the cause.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Named {
  const char* name;
  long number;
};

const Named kSyscalls[] = {{"process_vm_readv", SYS_process_vm_readv},
                           {"process_vm_writev", SYS_process_vm_writev},
                           {"ptrace", SYS_ptrace},
                           {"vmsplice", SYS_vmsplice},
                           {"socketpair", SYS_socketpair}};

long number_of(const std::string& name) {
  for (const Named& s : kSyscalls)
    if (name == s.name) return s.number;
  return -1;
}

// allow unless (arch is x86_64 and nr is one of `denied`), then EPERM.
std::vector<sock_filter> filter_denying(const std::vector<long>& denied) {
  std::vector<sock_filter> prog = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
  };
  for (long nr : denied) {
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<__u32>(nr), 0, 1));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return prog;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s SYSCALL[,SYSCALL...] -- COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  std::vector<long> denied;
  std::string list = argv[1];
  for (std::size_t start = 0; start <= list.size();) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    const long nr = number_of(name);
    if (nr < 0) {
      std::fprintf(stderr, "%s: unknown system call '%s'\n", argv[0], name.c_str());
      return 2;
    }
    denied.push_back(nr);
    start = comma + 1;
  }
  std::vector<sock_filter> prog = filter_denying(denied);
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    std::perror("installing the seccomp filter");
    return 1;
  }
  execvp(argv[3], argv + 3);
  std::perror(argv[3]);
  return 127;
}
