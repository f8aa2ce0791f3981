// The one way a mechanism makes a system call that may sleep until its peer
// acts: read() or write() on a pipe or socket, send() or recv(), vmsplice()
// into a full pipe, waitpid() for a tracee's stop.
//
// A process may hold signals it owes its peers (DeferredSignal in
// harness/ranks/wait.hpp: a receiver's "consumed", published with its next
// post). Were it to sleep holding one, a peer waiting for that signal would
// never act, and both would wait for good. wait_for() in wait.hpp publishes
// before it waits on shared memory; blocking_call() does the same before a
// system call. The Link contract (mechanisms/mechanism.hpp) requires every
// wait to go through one of the two, and deferred_signal_test.cpp checks it
// for every registered mechanism.
#pragma once

#include <utility>

#include "harness/ranks/wait.hpp"

namespace ipcatlas {

// Publishes this process's deferred signals, then returns call(). Called for
// every attempt of a retry loop: publishing costs a test of a count when
// nothing is deferred.
template <class Call>
decltype(auto) blocking_call(Call&& call) {
  publish_deferred_signals();
  return std::forward<Call>(call)();
}

}  // namespace ipcatlas
