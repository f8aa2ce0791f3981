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

// Empty if a run may measure `mechanism` under `policy`; otherwise why not.
// A policy a mechanism does not honour still runs as it always has (spin and
// adaptive on pipe: its ranks block in the kernel, and result files and
// baselines hold those cells), except eventfd: an fd mechanism under it would
// only repeat its block figures under a name that reads as an eventfd
// measurement, so that cell is skipped with this reason.
std::string wait_policy_cannot_serve(const Mechanism& mechanism, WaitPolicy policy);

}  // namespace ipcatlas
