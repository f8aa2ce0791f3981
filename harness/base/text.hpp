// Small string helpers. Formatting is {fmt}'s (g++ 12 has no std::format).
#pragma once

#include <string>
#include <vector>

namespace ipcatlas {

// {0, 3} -> "0,3"
std::string join(const std::vector<int>& values, const std::string& separator = ",");
std::string join(const std::vector<std::string>& values, const std::string& separator = ", ");

// "a,,b" -> {"a", "", "b"}: every item, empty ones too, so callers can name them.
std::vector<std::string> split(const std::string& text, char separator);

}  // namespace ipcatlas
