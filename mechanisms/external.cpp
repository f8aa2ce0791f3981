// KNEM and XPMEM: single-copy kernel modules that MPI libraries use where
// they are installed. Neither is in stock kernels, and ipcatlas does not
// drive them yet; they are listed so that `ipcatlas list` says what a node
// has and what ipcatlas cannot measure on it, instead of being silent.
#include <sys/stat.h>

#include "mechanisms/mechanism.hpp"

namespace ipcatlas {
namespace {

Availability probe_device(const char* device, const char* name, const char* where) {
  struct stat st {};
  if (stat(device, &st) != 0)
    return Availability::no(std::string(device) + " is not present: " + name + " is an out-of-tree kernel module",
                            std::string("install and load ") + name + " (" + where + ") to use it from MPI libraries");
  return Availability::no(std::string(device) + " is present, but ipcatlas does not implement " + name + " yet",
                          std::string("measure it with the MPI library's own benchmarks meanwhile (e.g. osu_latency "
                                      "with the library's ") +
                              name + " path enabled)");
}

Availability probe_knem() { return probe_device("/dev/knem", "KNEM", "https://knem.gitlabpages.inria.fr"); }
Availability probe_xpmem() { return probe_device("/dev/xpmem", "XPMEM", "https://github.com/hpc/xpmem"); }

}  // namespace

extern const Mechanism kKnemMechanism{
    .id = "knem",
    .summary = "KNEM kernel module: single copy through /dev/knem regions (not implemented)",
    .api = "knem",
    .moves = Moves::pull,  // as MPI libraries use it: the receiver copies from the sender's declared region
    .copies = 1,
    .copies_note = "",
    .single_copy = true,
    .permissions = "/dev/knem (out-of-tree module)",
    .probe = probe_knem,
    .make_link = nullptr,
};

extern const Mechanism kXpmemMechanism{
    .id = "xpmem",
    .summary = "XPMEM kernel module: the receiver maps the sender's pages (not implemented)",
    .api = "xpmem",
    .moves = Moves::pull,  // the receiver copies out of the sender's pages, mapped into it
    .copies = 1,
    .copies_note = "",
    .single_copy = true,
    .permissions = "/dev/xpmem (out-of-tree module)",
    .probe = probe_xpmem,
    .make_link = nullptr,
};

}  // namespace ipcatlas
