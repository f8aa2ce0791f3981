// Makes sure no rank outlives an interrupted ipcatlas.
//
// Ranks already die with the driver (PR_SET_PDEATHSIG), but a driver stopped
// by SIGINT or SIGTERM first kills its ranks itself, so that the shell prompt
// never returns while a rank still runs, then dies of the same signal.
#pragma once

#include <sys/types.h>

namespace ipcatlas {

// Installs SIGINT/SIGTERM/SIGHUP handlers that SIGKILL every tracked child,
// print one line, and re-raise the signal. A signal the process inherited as
// ignored (nohup) stays ignored. Idempotent.
void install_interrupt_handlers();

void track_child(pid_t pid);
void untrack_child(pid_t pid);

// The first call of a child just forked by `parent` (a rank, a probe's
// process) that must not outlive it and leaves Ctrl-C to it: the child gets
// SIGKILL when the parent dies, even by SIGKILL (PR_SET_PDEATHSIG); exits at
// once with status 1 if the parent died before that took effect; ignores
// SIGINT and SIGHUP, which the parent handles for the group (its inherited
// handlers must not run here), and takes SIGTERM's default action again.
void become_dependent_child(pid_t parent);

}  // namespace ipcatlas
