// Message sizes on the command line: "4096", "4K", "1M", lists "1,64,4K" and
// ranges "1:4M" (MIN, every power of two strictly between, MAX). K, M and G
// are powers of two (KiB, MiB, GiB).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ipcatlas {

// The largest message ipcatlas accepts. Every rank holds a send and a receive
// buffer of this size, so the cap keeps a typo from asking for terabytes.
inline constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 30;

// Parses one size ("64", "4K", "1M", "1G"). Throws UsageError naming the bad text.
std::size_t parse_size(std::string_view text);

// Parses a list of sizes and ranges, sorted and without duplicates.
// Throws UsageError naming the bad item.
std::vector<std::size_t> parse_size_list(std::string_view text);

// "4096" -> "4K", "1048576" -> "1M", "1000" -> "1000": for messages to humans.
std::string format_size(std::size_t bytes);

}  // namespace ipcatlas
