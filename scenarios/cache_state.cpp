// --cache hot|cold: the names, and which cells a cold cache can serve.
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "harness/base/sizes.hpp"
#include "harness/machine/shared_memory.hpp"
#include "scenarios/scenario.hpp"

namespace ipcatlas {

std::string_view to_string(CacheState cache) { return cache == CacheState::cold ? "cold" : "hot"; }

std::optional<CacheState> cache_state_named(std::string_view text) {
  if (text == "hot") return CacheState::hot;
  if (text == "cold") return CacheState::cold;
  return std::nullopt;
}

namespace {

std::size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

}  // namespace

std::string cache_cannot_serve(const CellSpec& cell) {
  if (cell.cache == CacheState::hot) return "";
  if (cell.mechanism->moves == Moves::none)
    return std::string(cell.mechanism->id) +
           " has no buffer to rotate: its sender writes each message in place in the one region both ranks map";
  if (cell.cold_pool_bytes == 0)
    return "hwloc reports no cache size for these PUs, and a cold cache needs a pool larger than the last-level "
           "cache";
  // Every rank holds a send pool and a receive pool (buffer_pool.hpp).
  const std::size_t needed = cell.cpus.size() * 2 * std::max(cell.cold_pool_bytes, 2 * (cell.size + page_size()));
  const std::size_t memory = physical_memory_bytes();
  if (memory > 0 && needed > memory / 2)
    return fmt::format("a cold cache needs {} of buffers for {} ranks, more than half of this machine's {}",
                       format_size(needed), cell.cpus.size(), format_size(memory));
  return "";
}

}  // namespace ipcatlas
