#include "harness/base/proc_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>

namespace ipcatlas {

FileRead read_file(const std::string& path) {
  FileRead file{path, "", 0};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    file.err = errno;
    return file;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) file.err = errno;
    if (n <= 0) break;
    file.text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return file;
}

FileRead read_first_line(const std::string& path) {
  FileRead file = read_file(path);
  file.text = std::string(trim(std::string_view(file.text).substr(0, file.text.find('\n'))));
  return file;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string field_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == key)
      return std::string(trim(line.substr(colon + 1)));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return "";
}

}  // namespace ipcatlas
