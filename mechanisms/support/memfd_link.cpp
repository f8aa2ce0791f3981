#include "mechanisms/support/memfd_link.hpp"

#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"
#include "harness/base/resource_limits.hpp"
#include "mechanisms/support/fd_passing.hpp"

namespace ipcatlas {
namespace {

constexpr std::size_t kSlack = 4096;  // room for callers that offset messages (alignment tests)
constexpr std::size_t kCacheLine = 64;

std::size_t round_up(std::size_t n, std::size_t granule) { return (n + granule - 1) / granule * granule; }

// A consumer using the message in place: one load from every cache line.
void read_every_line(const std::byte* p, std::size_t n) {
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < n; i += kCacheLine) sum ^= static_cast<std::uint8_t>(p[i]);
  sum ^= static_cast<std::uint8_t>(p[n - 1]);
  asm volatile("" : : "r"(sum));
}

}  // namespace

std::size_t MemfdLink::buffer_bytes(std::size_t max_message_bytes, bool huge) {
  return round_up(max_message_bytes + kSlack, huge ? kHugePageBytes : kSmallPageBytes);
}

Fd make_mapped_memfd(std::size_t bytes, bool huge, std::byte*& mapping) {
  const unsigned flags = MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0u);
  Fd fd(check_sys(memfd_create(kMemfdName, flags), huge ? "memfd_create(MFD_HUGETLB | MFD_HUGE_2MB)" : "memfd_create"));
  check_sys(ftruncate(fd.get(), static_cast<off_t>(bytes)), "ftruncate of the memfd");
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) throw SysError(fmt::format("mmap of the {}-byte memfd", bytes), errno);
  mapping = static_cast<std::byte*>(p);
  // Allocate every page now, not during the first messages.
  for (std::size_t i = 0; i < bytes; i += kSmallPageBytes) mapping[i] = std::byte{0};
  return fd;
}

MemfdLink::MemfdLink(const LinkConfig& config, bool huge)
    : config_(config),
      huge_(huge),
      granule_(huge ? kHugePageBytes : kSmallPageBytes),
      mailbox_memory_(sizeof(MailboxShared), config.numa_node),
      doorbell_(config.wait) {
  make_socket_pair(SOCK_SEQPACKET, "socketpair for the memfds", socket_[0], socket_[1]);
}

MemfdLink::~MemfdLink() {
  if (view_ != nullptr) munmap(view_, view_bytes_);
  if (out_ != nullptr) munmap(out_, out_bytes_);
}

void MemfdLink::open(Side side, pid_t) {
  doorbell_.open(side);
  mailbox_ = MailboxEnd(mailbox_memory_.as<MailboxShared>(), side, config_.wait, doorbell_.fds());
  const int me = index_of(side);
  socket_[1 - me].reset();  // the peer's end: only the peer uses it
  out_bytes_ = buffer_bytes(config_.max_message_bytes, huge_);
  own_memfd_ = make_mapped_memfd(out_bytes_, huge_, out_);
  send_fd(socket_[me].get(), own_memfd_.get(), "this side's memfd");
  peer_memfd_ = receive_fd(socket_[me].get(), "the peer's memfd");
  socket_[me].reset();
  own_memfd_.reset();  // the mapping keeps the memory; the peer holds its own descriptor
}

std::span<std::byte> MemfdLink::message_memory(std::size_t bytes) {
  // Release first: the peer may itself be waiting in message_memory() for
  // the mapping we hold, before either of us sends again.
  release_view();
  mailbox_.wait_all_consumed();
  if (bytes > out_bytes_)
    throw std::length_error(fmt::format("memfd-map: {} bytes exceed the link's {}-byte memfd", bytes, out_bytes_));
  return {out_, out_bytes_};
}

void MemfdLink::send(std::span<const std::byte> msg) {
  release_view();
  if (msg.data() < out_ || msg.data() + msg.size() > out_ + out_bytes_)
    throw std::invalid_argument("memfd-map: send() needs a message built in message_memory()");
  const std::uint64_t length = msg.size();
  std::memcpy(mailbox_.out_slot().data(), &length, sizeof length);
  mailbox_.set_out_info(static_cast<std::uint32_t>(msg.data() - out_));
  mailbox_.post();
}

std::span<const std::byte> MemfdLink::recv(std::span<std::byte> into) {
  release_view();
  mailbox_.wait_posted();
  holding_view_ = true;
  const std::size_t offset = mailbox_.in_info();
  std::uint64_t length;
  std::memcpy(&length, mailbox_.in_slot().data(), sizeof length);
  if (length != into.size())
    throw std::runtime_error(fmt::format("memfd-map: the peer sent {} bytes, {} expected", length, into.size()));
  if (length == 0) return into.first(0);
  const std::size_t first = offset / granule_ * granule_;
  const std::size_t bytes = round_up(offset + length, granule_) - first;
  void* p = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, peer_memfd_.get(), static_cast<off_t>(first));
  if (p == MAP_FAILED) throw SysError(fmt::format("mmap of {} bytes of the peer's memfd", bytes), errno);
  view_ = p;
  view_bytes_ = bytes;
  const std::byte* msg = static_cast<const std::byte*>(p) + (offset - first);
  read_every_line(msg, length);
  return {msg, length};
}

// The view returned by the last recv() is unmapped on this side's next call
// of message_memory(), send() or recv(), and only then consumed.
void MemfdLink::release_view() {
  if (!holding_view_) return;
  holding_view_ = false;
  if (view_ != nullptr) check_sys(munmap(view_, view_bytes_), "munmap of the peer's memfd");
  view_ = nullptr;
  mailbox_.consume();
}

Availability huge_page_counters(const std::string& root) {
  const std::string dir = root + "/sys/kernel/mm/hugepages/hugepages-2048kB";
  const FileRead free_pages = read_first_line(dir + "/free_hugepages");
  if (free_pages.missing())
    return Availability::no("this kernel offers no 2 MiB huge pages (no " + dir + ")",
                            "a kernel with CONFIG_HUGETLBFS on a CPU with 2 MiB pages");
  const FileRead reserved = read_first_line(root + "/proc/sys/vm/nr_hugepages");
  const FileRead overcommit = read_first_line(root + "/proc/sys/vm/nr_overcommit_hugepages");
  const auto value = [](const FileRead& f) { return f.ok() ? std::string(trim(f.text)) : std::string("?"); };
  if (value(free_pages) != "0" || (value(overcommit) != "0" && value(overcommit) != "?")) return Availability::yes();
  return Availability::no(fmt::format("no free 2 MiB huge page: vm.nr_hugepages={}, free_hugepages={}, "
                                      "vm.nr_overcommit_hugepages={}",
                                      value(reserved), value(free_pages), value(overcommit)),
                          "reserve huge pages: sysctl vm.nr_hugepages=N (each link of messages up to 16 MiB "
                          "needs 18 pages, 9 per side), or mount hugetlbfs with pages reserved");
}

Availability probe_memfd(bool huge) {
  if (huge) {
    Availability counters = huge_page_counters("");
    if (!counters.available) return counters;
  }
  try {
    std::byte* mapping = nullptr;
    const std::size_t bytes = huge ? kHugePageBytes : kSmallPageBytes;
    const Fd fd = make_mapped_memfd(bytes, huge, mapping);
    munmap(mapping, bytes);
  } catch (const SysError& e) {
    if (huge && (e.err() == ENOMEM || e.err() == EINVAL || e.err() == ENOSPC))
      return Availability::no(fmt::format("{} failed: {}", e.call(), std::strerror(e.err())),
                              "sysctl vm.nr_hugepages=N (2 MiB pages; or mount hugetlbfs with pages reserved)");
    return probe_error(e, "check the memory limits (ulimit -v, cgroup memory.max) and that memfd_create is allowed");
  }
  return Availability::yes();
}

}  // namespace ipcatlas
