// The link of memfd-map and memfd-map-huge: messages move as page mappings.
//
// Each side's send buffer is memfd memory: in open(), each rank creates a
// memfd (memfd_create, ftruncate), maps it MAP_SHARED, and hands the
// descriptor to the peer once, over a UNIX socket as SCM_RIGHTS
// (fd_passing.hpp). The sender builds its message in place there
// (message_memory(), as zerocopy) and posts its offset and length through
// the mailbox. The receiver maps the pages of the peer's memfd covering
// [offset, offset + length) (4 KiB or 2 MiB granules), reads every cache
// line of the message, returns a view into the mapping, and unmaps it at
// this side's next call on the link (the view is valid until then, as
// zerocopy's); only then does its consume let the sender reuse the buffer.
// So the mmap, its page faults and the TLB shootdown of munmap are in the
// timed path of every message; a zero-byte message maps nothing.
//
// One buffer per direction: message_memory() waits until the peer has
// unmapped the previous message. The destructor unmaps everything and
// closes every descriptor.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "harness/base/availability.hpp"
#include "harness/machine/shared_memory.hpp"
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/eventfd_doorbell.hpp"
#include "mechanisms/support/fd_io.hpp"
#include "mechanisms/support/mailbox.hpp"

namespace ipcatlas {

inline constexpr std::size_t kSmallPageBytes = 4096;
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Both memfd mechanisms' segments_refusal.
inline constexpr std::string_view kMemfdSegmentsRefusal =
    "the sender builds its message in place in memfd memory and the receiver maps it: nobody copies, so there is "
    "no gather or scatter to measure";

// The memfd name, as /proc/PID/maps and /proc/PID/fd show it ("/memfd:NAME (deleted)").
inline constexpr const char* kMemfdName = "ipcatlas-memfd-map";

class MemfdLink final : public Link {
 public:
  // huge: MFD_HUGETLB | MFD_HUGE_2MB memory mapped in 2 MiB granules.
  MemfdLink(const LinkConfig& config, bool huge);
  ~MemfdLink() override;
  MemfdLink(const MemfdLink&) = delete;
  MemfdLink& operator=(const MemfdLink&) = delete;

  void open(Side side, pid_t peer) override;
  std::span<std::byte> message_memory(std::size_t bytes) override;
  void send(std::span<const std::byte> msg) override;
  std::span<const std::byte> recv(std::span<std::byte> into) override;

  // The bytes of each side's memfd for messages of up to max_message_bytes.
  static std::size_t buffer_bytes(std::size_t max_message_bytes, bool huge);

 private:
  void release_view();

  LinkConfig config_;
  bool huge_;
  std::size_t granule_;
  SharedMapping mailbox_memory_;
  EventfdDoorbell doorbell_;  // --wait eventfd only
  MailboxEnd mailbox_;
  Fd socket_[2];  // end s belongs to side s, until open()
  Fd own_memfd_, peer_memfd_;
  std::byte* out_ = nullptr;  // this side's memfd, mapped read-write
  std::size_t out_bytes_ = 0;
  void* view_ = nullptr;  // the pages of the peer's memfd mapped by the last recv()
  std::size_t view_bytes_ = 0;
  bool holding_view_ = false;
};

// Creates a memfd of `bytes` (huge: 2 MiB pages), maps it read-write and
// touches every page. Throws SysError. On return `mapping` holds the address.
Fd make_mapped_memfd(std::size_t bytes, bool huge, std::byte*& mapping);

// Whether 2 MiB huge pages can be had, from the counters under `root` ("" for
// this machine): /proc/sys/vm/nr_hugepages, nr_overcommit_hugepages and
// /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages. Not available,
// naming the counters and the fix (sysctl vm.nr_hugepages=N), when none is free.
Availability huge_page_counters(const std::string& root);

// The probes: a memfd of one page (2 MiB for huge) created, mapped and touched.
Availability probe_memfd(bool huge);

}  // namespace ipcatlas
