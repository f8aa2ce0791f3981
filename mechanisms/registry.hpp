// The explicit list of mechanisms (no self-registration: an explicit list
// cannot be silently dropped by the linker, and shows the order of `list`).
#pragma once

#include <span>
#include <string_view>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

std::span<const Mechanism* const> all_mechanisms();
// nullptr when no mechanism has this id.
const Mechanism* find_mechanism(std::string_view id);
// "shm, zerocopy, pipe, ..." for error messages.
std::string mechanism_ids();

}  // namespace ipcatlas
