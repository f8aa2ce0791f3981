// ptrace: the oldest single-copy path. The receiver is the sender's tracer
// (PTRACE_SEIZE). For every message it stops the sender (PTRACE_INTERRUPT),
// reads the posted buffer word by word with PTRACE_PEEKDATA (8 bytes per
// system call), and resumes it (PTRACE_CONT). Pull rendezvous (rendezvous.hpp).
//
// Each receiver traces the ranks it receives from, and a tracee has one
// tracer, so ptrace cannot serve a pattern in which one sender is read by
// several receivers (onetomany, alltoall); manytoone is fine (one tracer, many
// tracees). The descriptor says so (one_tracer_per_tracee, pull), and the
// scenario layer refuses those patterns (mechanism_cannot_serve()).
//
// The sender is stopped for the whole copy, and each 8 bytes cost a system
// call, so sizes above a cap (64 KiB unless raised with --size-cap
// ptrace=SIZE) are skipped.
//
// The tracee is never left stopped or traced: the tracer resumes it after
// each message, the kernel detaches it (and resumes it from a ptrace stop)
// when the tracer exits for any reason, and PTRACE_O_EXITKILL is NOT used,
// so a dying tracer never takes the tracee with it.
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <csignal>

#include <cstring>

#include "harness/base/error.hpp"
#include "mechanisms/support/blocking_call.hpp"
#include "mechanisms/support/rendezvous.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kWord = sizeof(long);

class PtraceMemory final : public PeerMemory {
 public:
  // In a ping-pong each rank traces the other. When a tracee stops, the
  // kernel sends SIGCHLD to its tracer, and a traced process that receives a
  // signal enters a signal-delivery stop that only its own tracer can end:
  // two ranks tracing each other would stop each other for good. With
  // SA_NOCLDSTOP the kernel sends no SIGCHLD for stops
  // (do_notify_parent_cldstop()); waitpid() still reports them.
  void open(pid_t peer) override {
    PeerMemory::open(peer);
    struct sigaction no_stop_signals {};
    no_stop_signals.sa_handler = SIG_DFL;
    no_stop_signals.sa_flags = SA_NOCLDSTOP;
    sigemptyset(&no_stop_signals.sa_mask);
    sigaction(SIGCHLD, &no_stop_signals, nullptr);
  }

  void read(std::span<std::byte> into, std::uintptr_t remote) override {
    seize_once();
    stop_tracee();
    const ResumeOnExit resume{peer_};  // even when peek() throws
    peek(into, remote);
  }

  // Segment by segment, word by word, in one stop of the tracee.
  void read_segments(std::span<const iovec> local, std::span<const iovec> remote) override {
    seize_once();
    stop_tracee();
    const ResumeOnExit resume{peer_};
    for_each_piece(local, remote, [this](std::span<std::byte> piece, std::uintptr_t at) { peek(piece, at); });
  }

  void write(std::uintptr_t, std::span<const std::byte>) override {
    throw std::logic_error("ptrace: only the pull direction (the receiver traces the sender) is measured");
  }

 private:
  // Seized on the first message, once the sender has declared us (Yama).
  void seize_once() {
    if (seized_) return;
    if (ptrace(PTRACE_SEIZE, peer_, nullptr, nullptr) != 0) throw_access_error("PTRACE_SEIZE", errno, peer_);
    seized_ = true;
  }

  // Waits for the interrupt's event stop. A signal that arrives meanwhile
  // shows up as a signal-delivery stop first; it is handed back on resume.
  void stop_tracee() {
    if (ptrace(PTRACE_INTERRUPT, peer_, nullptr, nullptr) != 0) throw_access_error("PTRACE_INTERRUPT", errno, peer_);
    for (;;) {
      int status = 0;
      // The tracee stops whatever it is doing, so this wait needs nothing from
      // it; through blocking_call() all the same, as every sleep in the kernel.
      if (blocking_call([&] { return waitpid(peer_, &status, __WALL); }) < 0) {
        if (errno == EINTR) continue;
        throw SysError("waitpid on the tracee", errno);
      }
      if (!WIFSTOPPED(status)) throw std::runtime_error("ptrace: the sender exited while being read");
      if ((status >> 16) == PTRACE_EVENT_STOP) return;
      pending_signal_ = WSTOPSIG(status);
      if (ptrace(PTRACE_CONT, peer_, nullptr, reinterpret_cast<void*>(static_cast<long>(pending_signal_))) != 0)
        throw SysError("PTRACE_CONT", errno);
      pending_signal_ = 0;
    }
  }

  struct ResumeOnExit {
    pid_t tracee;
    ~ResumeOnExit() { ptrace(PTRACE_CONT, tracee, nullptr, nullptr); }
  };

  // Reads the aligned words that cover [remote, remote + size) and keeps the
  // bytes of the message.
  void peek(std::span<std::byte> into, std::uintptr_t remote) {
    const std::uintptr_t first = remote & ~(kWord - 1);
    const std::uintptr_t end = remote + into.size();
    for (std::uintptr_t word = first; word < end; word += kWord) {
      errno = 0;
      const long value = ptrace(PTRACE_PEEKDATA, peer_, reinterpret_cast<void*>(word), nullptr);
      if (value == -1 && errno != 0) throw_access_error("PTRACE_PEEKDATA", errno, peer_);
      const std::uintptr_t from = std::max(word, remote);
      const std::uintptr_t to = std::min(word + kWord, end);
      std::memcpy(into.data() + (from - remote), reinterpret_cast<const std::byte*>(&value) + (from - word), to - from);
    }
  }

  bool seized_ = false;
  int pending_signal_ = 0;
};

Availability probe_ptrace() {
  return probe_peer_memory("PTRACE_SEIZE", Rendezvous::pull, [] { return std::make_unique<PtraceMemory>(); });
}

}  // namespace

extern const Mechanism kPtraceMechanism{
    .id = "ptrace",
    .summary = "receiver traces the sender: stops it (PTRACE_INTERRUPT), reads word by word (PTRACE_PEEKDATA), "
               "resumes it",
    .api = "ptrace",
    .moves = Moves::pull,
    .copies = 1,
    .copies_note = "8 bytes per system call",
    .single_copy = false,  // one copy, but no MPI or UCX runtime uses it
    .permissions = "ptrace attach to the peer (as cma-*); one tracer per tracee",
    .one_tracer_per_tracee = true,
    // The rendezvous waits on the mailbox line; the waitpid() for the
    // tracee's stop does not wait for the peer to act.
    .wait_policies = kEveryWaitPolicy,
    .probe = probe_ptrace,
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> {
      return make_rendezvous_link(c, Rendezvous::pull, std::make_unique<PtraceMemory>());
    },
    .context = nullptr,
    .default_size_cap = 64 * 1024,
};

}  // namespace ipcatlas
