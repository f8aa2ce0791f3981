// Test helper: run a body in a forked child, so that what it changes (a
// seccomp filter, a user namespace, its credentials or resource limits)
// never reaches the test process, and read back what it reported.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace ipcatlas::testing {

// What a child process observed, as key=value pairs.
using Report = std::map<std::string, std::string>;

// Runs `body` in a forked child and returns what it reported, and "exit": its
// exit status, or "killed".
inline Report run_isolated(const std::function<void(Report&)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(fds[0]);
    Report report;
    try {
      body(report);
    } catch (const std::exception& e) {  // never unwind into GoogleTest's code in a child
      report["exception"] = e.what();
    }
    std::string text;
    for (const auto& [key, value] : report) text += key + "=" + value + "\n";
    const ssize_t written = ::write(fds[1], text.data(), text.size());
    ::_exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Report report;
  for (std::size_t start = 0, eol; (eol = text.find('\n', start)) != std::string::npos; start = eol + 1) {
    const std::string line = text.substr(start, eol - start);
    const std::size_t eq = line.find('=');
    report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  report["exit"] = WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "killed";
  return report;
}

inline std::string value(const Report& report, const std::string& key) {
  const auto it = report.find(key);
  return it == report.end() ? "(not reported)" : it->second;
}

// In a run_isolated body: the next file descriptor this process opens fails
// with EMFILE (RLIMIT_NOFILE becomes the lowest free descriptor). Returns
// that limit, or -1 if it could not be set.
inline int exhaust_file_descriptors() {
  const int lowest_free = ::dup(0);
  if (lowest_free < 0) return -1;
  ::close(lowest_free);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  limit.rlim_cur = static_cast<rlim_t>(lowest_free);
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0 ? lowest_free : -1;
}

// In a run_isolated body: the next fork fails with EAGAIN. The kernel never
// applies RLIMIT_NPROC to root, so root first becomes nobody (65534); the
// limit, 1, is then already reached by this process. Returns "" or what failed.
inline std::string exhaust_processes() {
  if (::getuid() == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return "setuid to nobody failed";
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a change of credentials clears it
  }
  const rlimit one{1, 1};
  return ::setrlimit(RLIMIT_NPROC, &one) == 0 ? "" : "setrlimit(RLIMIT_NPROC) failed";
}

}  // namespace ipcatlas::testing
