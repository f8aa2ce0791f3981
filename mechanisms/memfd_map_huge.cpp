// memfd-map-huge: memfd-map on 2 MiB huge pages (MFD_HUGETLB | MFD_HUGE_2MB).
//
// The receiver maps the 2 MiB pages covering each message: one page-table
// entry and one fault per 2 MiB instead of 512, but a whole huge page mapped
// even for one byte. It needs reserved huge pages (vm.nr_hugepages): each
// side's memfd holds its largest message rounded up to 2 MiB, plus 4 KiB
// for offsets (9 pages a side for 16 MiB). Its probe says unavailable, with
// the counters and the fix, when no 2 MiB page can be had.
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/memfd_link.hpp"

#include <string>

namespace ipcatlas {
namespace {

std::map<std::string, std::string> memfd_huge_context() {
  return {{"huge_page_bytes", std::to_string(kHugePageBytes)}};
}

}  // namespace

extern const Mechanism kMemfdMapHugeMechanism{
    .id = "memfd-map-huge",
    .summary = "memfd-map on 2 MiB huge pages (MFD_HUGETLB): the receiver mmaps the 2 MiB pages holding each "
               "message, reads it in place and munmaps them",
    .api = "memfd_create(MFD_HUGETLB) + mmap/munmap",
    .moves = Moves::none,
    .copies = 0,
    .copies_note = "page-table entries move instead: every message pays an mmap, a fault per 2 MiB page and the "
                   "munmap's TLB shootdown on every CPU the receiving process ran on; the sender must build its "
                   "data in its memfd memory, and huge pages must be reserved (vm.nr_hugepages)",
    .single_copy = false,
    .mapping_page_size = kHugePageBytes,
    .permissions = "reserved 2 MiB huge pages (sysctl vm.nr_hugepages)",
    .wait_policies = kEveryWaitPolicy,  // every wait is on the mailbox line
    .segments_refusal = kMemfdSegmentsRefusal,
    .probe = [] { return probe_memfd(true); },
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<MemfdLink>(c, true); },
    .context = memfd_huge_context,
    .bidirectional_limit = no_bidirectional_limit,
};

}  // namespace ipcatlas
