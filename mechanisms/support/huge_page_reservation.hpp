// For tests: 2 MiB huge pages reserved for the test's lifetime, when it runs
// as root. Raises /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages so
// that at least `pages` are free, and writes the old value back on
// destruction. Exactly as many as asked: a spare free page would let another
// test's probe (ctest -j) think the huge mechanism available.
#pragma once

#include <unistd.h>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "harness/base/proc_files.hpp"

namespace ipcatlas {

class HugePageReservation {
 public:
  explicit HugePageReservation(long pages) {
    if (geteuid() != 0) {
      refusal_ = "reserving huge pages needs root (or: sysctl vm.nr_hugepages=N before the test)";
      return;
    }
    const long free_pages = read_count("free_hugepages");
    if (free_pages >= pages) return;
    old_ = read_count("nr_hugepages");
    if (old_ < 0 || free_pages < 0) {
      refusal_ = "this kernel offers no 2 MiB huge pages (" + std::string(kDir) + ")";
      return;
    }
    write_count(old_ + pages - free_pages);
    const long now_free = read_count("free_hugepages");
    if (now_free < pages)
      refusal_ =
          fmt::format("asked for {} free 2 MiB huge pages, the kernel gave {} (fragmented memory?)", pages, now_free);
  }
  ~HugePageReservation() {
    if (old_ >= 0) write_count(old_);
  }
  HugePageReservation(const HugePageReservation&) = delete;
  HugePageReservation& operator=(const HugePageReservation&) = delete;

  // Empty when the pages are there; otherwise why not (the test's skip reason).
  const std::string& refusal() const { return refusal_; }

 private:
  static constexpr const char* kDir = "/sys/kernel/mm/hugepages/hugepages-2048kB";
  static long read_count(const char* name) {
    const FileRead f = read_first_line(std::string(kDir) + "/" + name);
    return f.ok() ? std::stol(std::string(trim(f.text))) : -1;
  }
  static void write_count(long value) { std::ofstream(std::string(kDir) + "/nr_hugepages") << value << '\n'; }

  long old_ = -1;
  std::string refusal_;
};

}  // namespace ipcatlas
