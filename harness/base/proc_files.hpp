// Reading small /proc and /sys files, shared by everything that inspects
// the machine (machine_facts, peer_environment). Plain open/read rather than
// ifstream: callers need the errno, /proc files report a size of 0, and a
// directory must fail (EISDIR) instead of reading as empty.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>

namespace ipcatlas {

// One file's text, or the errno that stopped the read.
struct FileRead {
  std::string path;
  std::string text;
  int err = 0;
  bool ok() const { return err == 0; }
  bool missing() const { return err == ENOENT || err == ENOTDIR; }
};

FileRead read_file(const std::string& path);
// sysfs and sysctl values are one line; the newline is not part of the value.
FileRead read_first_line(const std::string& path);

// Without leading and trailing white space; a view into `text`.
std::string_view trim(std::string_view text);

// The value of the first "key: value" line with this key (white space around
// the key ignored, as in /proc/cpuinfo); "" when there is none.
std::string field_value(std::string_view text, std::string_view key);

}  // namespace ipcatlas
