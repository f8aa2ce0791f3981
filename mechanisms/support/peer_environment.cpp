#include "mechanisms/support/peer_environment.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/base/proc_files.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

// Every reader answers "unknown" (nullopt, -1, false) rather than throwing:
// a diagnosis must never fail because /proc is odd.

// A small /proc file's text, or nullopt when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path) {
  FileRead file = read_file(path);
  if (!file.ok()) return std::nullopt;
  return std::move(file.text);
}

// A whole decimal or hexadecimal number; nullopt for anything else (empty, trailing junk, overflow).
std::optional<unsigned long long> parse_number(std::string_view text, int base) {
  const std::string digits(trim(text));
  if (digits.empty() || digits.front() == '-') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(digits.c_str(), &end, base);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return value;
}

int read_yama_scope(const std::string& root) {
  const auto text = read_small_file(root + "/proc/sys/kernel/yama/ptrace_scope");
  const auto scope = text ? parse_number(*text, 10) : std::nullopt;
  return scope && *scope <= 3 ? static_cast<int>(*scope) : -1;
}

bool has_cap_sys_ptrace(std::string_view status) {
  const auto effective = parse_number(field_value(status, "CapEff"), 16);
  return effective && ((*effective >> CAP_SYS_PTRACE) & 1U) != 0;
}

int seccomp_mode(std::string_view status) {
  const auto mode = parse_number(field_value(status, "Seccomp"), 10);
  return mode && *mode <= 2 ? static_cast<int>(*mode) : 0;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The options of a proc mount that hide processes: hidepid= unless it is off,
// and subset=pid. Both kernel spellings occur: "hidepid=2" before 5.8, "hidepid=invisible" since.
std::string hiding_options(std::string_view super_options) {
  std::vector<std::string> found;
  for (const std::string_view option : split(super_options, ',')) {
    const bool hidepid = option.substr(0, 8) == "hidepid=" && option != "hidepid=0" && option != "hidepid=off";
    if (hidepid || option == "subset=pid") found.emplace_back(option);
  }
  return join(found, ",");
}

// A mountinfo line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
// Optional fields before " - " vary in number, so the part after it is parsed from the separator.
// Returns the super options when the line is a proc mount on /proc.
std::optional<std::string_view> proc_mount_options(std::string_view line) {
  const std::size_t separator = line.find(" - ");
  if (separator == std::string_view::npos) return std::nullopt;
  const std::vector<std::string_view> before = split(line.substr(0, separator), ' ');
  const std::vector<std::string_view> after = split(line.substr(separator + 3), ' ');
  if (before.size() < 5 || before[4] != "/proc" || after.size() < 3 || after[0] != "proc") return std::nullopt;
  return trim(after[2]);
}

// The last proc mount on /proc is the one path lookups see: later mounts stack on earlier ones.
std::string read_proc_hidepid(const std::string& root) {
  const auto mountinfo = read_small_file(root + "/proc/self/mountinfo");
  if (!mountinfo) return "";
  std::string hiding;
  for (const std::string_view line : split(*mountinfo, '\n'))
    if (const auto options = proc_mount_options(line)) hiding = hiding_options(*options);
  return hiding;
}

// "user:[4026531837]" for the namespace link, or nullopt when it cannot be read
// (reading another process's link needs ptrace read access to it).
std::optional<std::string> read_link(const std::string& path) {
  char target[256];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
  if (n < 0 || static_cast<std::size_t>(n) == sizeof target) return std::nullopt;
  return std::string(target, static_cast<std::size_t>(n));
}

// Only a difference that was actually seen counts: an unreadable link proves nothing.
bool in_other_user_namespace(pid_t peer, const std::string& root) {
  const auto own = read_link(root + "/proc/self/ns/user");
  const auto theirs = read_link(root + fmt::format("/proc/{}/ns/user", peer));
  return own && theirs && *own != *theirs;
}

// The initial user namespace maps every uid to itself: "0 0 4294967295". A
// file that cannot be read (a kernel without user namespaces) counts as the
// initial namespace; an empty one is a new namespace nobody mapped yet.
bool is_identity_uid_map(const std::optional<std::string>& uid_map) {
  if (!uid_map) return true;
  std::istringstream lines(*uid_map);
  unsigned long inside = 1, outside = 1, count = 0;
  lines >> inside >> outside >> count;
  std::string rest;
  lines >> rest;
  return inside == 0 && outside == 0 && count == 4294967295UL && rest.empty();
}

}  // namespace

AccessEnvironment read_access_environment(pid_t peer, const std::string& root) {
  AccessEnvironment env;
  env.yama_scope = read_yama_scope(root);
  const std::string status = read_small_file(root + "/proc/self/status").value_or("");
  env.cap_sys_ptrace = has_cap_sys_ptrace(status);
  env.seccomp_mode = seccomp_mode(status);
  env.proc_hidepid = read_proc_hidepid(root);
  env.peer_in_other_userns = peer > 0 && in_other_user_namespace(peer, root);
  env.in_child_userns = !is_identity_uid_map(read_small_file(root + "/proc/self/uid_map"));
  return env;
}

void allow_peer_access(pid_t peer) {
  // A pid <= 0 would clear the declaration (0) or become PR_SET_PTRACER_ANY (-1): never that.
  if (peer <= 0) return;
  // EINVAL means Yama is not loaded, and then nothing needs declaring. Any other
  // failure shows up as the peer's EPERM, which explain_access_failure attributes.
  ::prctl(PR_SET_PTRACER, static_cast<unsigned long>(peer), 0UL, 0UL, 0UL);
}

}  // namespace ipcatlas
