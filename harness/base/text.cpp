#include "harness/base/text.hpp"

#include <algorithm>

namespace ipcatlas {

std::string join(const std::vector<int>& values, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(std::to_string(values[i]));
  }
  return out;
}

std::string join(const std::vector<std::string>& values, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(values[i]);
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(separator, start), text.size());
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

}  // namespace ipcatlas
