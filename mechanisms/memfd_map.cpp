// memfd-map: a message moves as page-table entries, not bytes.
//
// The sender builds its message in place in its memfd memory; the receiver
// maps the pages that hold it, reads it there and unmaps them
// (mechanisms/support/memfd_link.hpp). No byte is copied, but every message
// costs an mmap, a page fault per 4 KiB page read and the TLB shootdown of
// the munmap: "playing with mappings is not as cheap as you might think".
#include "mechanisms/mechanism.hpp"
#include "mechanisms/support/memfd_link.hpp"

namespace ipcatlas {

extern const Mechanism kMemfdMapMechanism{
    .id = "memfd-map",
    .summary = "payload built in the sender's memfd (passed once over SCM_RIGHTS); the receiver mmaps the pages "
               "holding each message, reads it in place and munmaps them",
    .api = "memfd_create + mmap/munmap",
    .moves = Moves::none,
    .copies = 0,
    .copies_note = "page-table entries move instead: every message pays an mmap, a page fault per 4 KiB page and the "
                   "munmap's TLB shootdown on every CPU the receiving process ran on; the sender must build its "
                   "data in its memfd memory (a library would allocate its send buffers there)",
    .single_copy = false,
    .mapping_page_size = 4096,
    .permissions = "",
    .wait_policies = kEveryWaitPolicy,  // every wait is on the mailbox line
    .segments_refusal = kMemfdSegmentsRefusal,
    .probe = [] { return probe_memfd(false); },
    .make_link = [](const LinkConfig& c) -> std::unique_ptr<Link> { return std::make_unique<MemfdLink>(c, false); },
    .context = nullptr,
    .bidirectional_limit = no_bidirectional_limit,
};

}  // namespace ipcatlas
