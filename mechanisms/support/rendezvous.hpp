// Rendezvous links: one rank copies directly between its own buffer and the
// peer's, after the two exchanged the buffer's address through the link's
// mailbox line. The signalling is the same as shm's and zerocopy's, so that
// only the copy differs between mechanisms.
//
//   pull (cma-read, procmem-read, ptrace): the sender posts {address, length}
//        of its buffer and waits; the receiver copies from the sender's memory
//        and consumes; then send() returns and the buffer may be reused.
//   push (cma-write, procmem-write): the receiver posts {address, length} of
//        its buffer; the sender copies into it and posts completion.
//
// A mechanism supplies only PeerMemory: how to read or write the peer's
// memory (process_vm_readv/writev, pread/pwrite on /proc/PID/mem, ptrace).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <memory>
#include <span>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {

class PeerMemory {
 public:
  virtual ~PeerMemory() = default;
  // In the rank, after fork. Access is first attempted only after the peer
  // posted an address, i.e. after it declared us with allow_peer_access().
  virtual void open(pid_t peer) { peer_ = peer; }
  // Copy into.size() bytes from the peer's address `remote`. Throws
  // std::runtime_error naming the exact cause (explain_access_failure).
  virtual void read(std::span<std::byte> into, std::uintptr_t remote) = 0;
  virtual void write(std::uintptr_t remote, std::span<const std::byte> from) = 0;
  // Scatter/gather (--segments): copy between this process's `local`
  // segments and the peer's `remote` ones, which hold the same number of
  // bytes. By default segment by segment: one read()/write() per contiguous
  // piece that lies in one local and one remote segment (ptrace). CMA moves
  // them all in one call, /proc/PID/mem one remote segment per call.
  virtual void read_segments(std::span<const iovec> local, std::span<const iovec> remote);
  virtual void write_segments(std::span<const iovec> remote, std::span<const iovec> local);

 protected:
  pid_t peer_ = 0;
};

enum class Rendezvous { pull, push };

std::unique_ptr<Link> make_rendezvous_link(const LinkConfig& config, Rendezvous kind,
                                           std::unique_ptr<PeerMemory> memory);

// A failed access to the peer's memory. what() gives the cause and the fix
// (from explain_access_failure() with this process's environment); err() the errno.
class AccessError : public std::runtime_error {
 public:
  AccessError(const std::string& what, int err) : std::runtime_error(what), err_(err) {}
  int err() const { return err_; }

 private:
  int err_;
};

[[noreturn]] void throw_access_error(const char* operation, int err, pid_t peer);

// Moves `length` bytes by calling step(done, left) until done: each call
// returns the bytes it moved, or -1 with errno set. Retries EINTR and partial
// transfers; throws AccessError (the cause and fix) on failure.
void transfer_all(std::size_t length, const char* operation, pid_t peer,
                  const std::function<ssize_t(std::size_t done, std::size_t left)>& step);

// Calls fn(piece, address) for every contiguous piece of `local` that lies
// in one segment of `local` and one of `remote`, in order; `address` is the
// piece's place in the peer. Throws when `local` holds fewer bytes.
void for_each_piece(std::span<const iovec> local, std::span<const iovec> remote,
                    const std::function<void(std::span<std::byte> piece, std::uintptr_t remote)>& fn);

// Probes a PeerMemory between two sibling processes, as ranks use it: reads
// (or, for push, writes) 64 bytes of the other. Returns the exact cause on failure.
Availability probe_peer_memory(const char* operation, Rendezvous kind,
                               const std::function<std::unique_ptr<PeerMemory>()>& make);

}  // namespace ipcatlas
