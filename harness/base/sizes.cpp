#include "harness/base/sizes.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::size_t suffix_multiplier(char c) {
  switch (c) {
    case 'k':
    case 'K': return std::size_t{1} << 10;
    case 'm':
    case 'M': return std::size_t{1} << 20;
    case 'g':
    case 'G': return std::size_t{1} << 30;
    default: return 0;
  }
}

}  // namespace

std::size_t parse_size(std::string_view raw) {
  const std::string_view text = trim(raw);
  std::string_view digits = text;
  std::size_t multiplier = 1;
  if (!digits.empty() && suffix_multiplier(digits.back()) != 0) {
    multiplier = suffix_multiplier(digits.back());
    digits.remove_suffix(1);
  }
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
    throw UsageError("invalid size '" + std::string(text) + "' (expected a number with an optional K, M or G suffix)");
  if (value > kMaxMessageBytes / multiplier || value * multiplier > kMaxMessageBytes)
    throw UsageError("size '" + std::string(text) + "' is over the limit of " + format_size(kMaxMessageBytes));
  return value * multiplier;
}

std::vector<std::size_t> parse_size_list(std::string_view text) {
  std::vector<std::size_t> sizes;
  if (trim(text).empty()) throw UsageError("empty size list");
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    if (item.empty()) throw UsageError("empty item in size list '" + std::string(text) + "'");
    if (const std::size_t colon = item.find(':'); colon != std::string_view::npos) {
      const std::size_t lo = parse_size(item.substr(0, colon));
      const std::size_t hi = parse_size(item.substr(colon + 1));
      if (lo > hi) throw UsageError("size range '" + std::string(item) + "' has MIN above MAX");
      sizes.push_back(lo);
      for (std::size_t p = 1; p < hi; p <<= 1)
        if (p > lo) sizes.push_back(p);
      sizes.push_back(hi);
    } else {
      sizes.push_back(parse_size(item));
    }
    start = comma + 1;
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::string format_size(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes >= (std::size_t{1} << 10) && bytes % (std::size_t{1} << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

}  // namespace ipcatlas
