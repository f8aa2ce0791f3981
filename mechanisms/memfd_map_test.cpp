// memfd-map and memfd-map-huge beyond the conformance suite: nothing left
// behind (no memfd descriptor or mapping, every link descriptor closed) in
// either rank once the link is destroyed there, byte-exact messages of up to
// 16 MiB at unaligned offsets on huge pages (with pages this test reserves
// when it runs as root), and the huge variant's reason when no huge page can
// be had.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "harness/testing/fake_root.hpp"
#include "mechanisms/link_test_support.hpp"
#include "mechanisms/support/huge_page_reservation.hpp"
#include "mechanisms/support/memfd_link.hpp"

namespace ipcatlas {
namespace {

using link_testing::expect_exact;
using link_testing::mechanism;

constexpr std::size_t kMaxBytes = std::size_t{16} << 20;

struct ProcessState {
  int fds = 0, memfd_fds = 0, memfd_maps = 0;
};

ProcessState process_state() {
  ProcessState s;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) throw std::runtime_error("cannot list /proc/self/fd");
  const std::string memfd = std::string("/memfd:") + kMemfdName;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || std::atoi(e->d_name) == dirfd(dir)) continue;
    ++s.fds;
    char target[256] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    if (readlink(path.c_str(), target, sizeof target - 1) > 0 && std::string(target).starts_with(memfd)) ++s.memfd_fds;
  }
  closedir(dir);
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(memfd) != std::string::npos) ++s.memfd_maps;
  return s;
}

int count_fds() { return process_state().fds; }

// Moves messages of every kind of size both ways, then destroys the link in
// the rank and checks what is left there.
class LeakProgram final : public RankProgram {
 public:
  LeakProgram(int rank, std::unique_ptr<Link>& link, int link_fds) : rank_(rank), link_(link), link_fds_(link_fds) {}

  void setup(RankEnv& env) override {
    before_ = process_state();
    link_->open(rank_ == 0 ? Side::a : Side::b, env.pid_of(1 - rank_));
    const ProcessState open = process_state();
    if (open.memfd_fds != 1 || open.memfd_maps < 1)
      throw std::runtime_error(fmt::format("rank {} after open: {} memfd descriptors, {} memfd mappings "
                                           "(expected the peer's memfd and this side's mapping)",
                                           rank_, open.memfd_fds, open.memfd_maps));
  }

  void run_batch(RankEnv&, const Batch&) override {
    std::uint64_t message = 0;
    for (std::size_t offset : {0, 1, 4093})
      for (std::size_t size :
           {std::size_t{0}, std::size_t{1}, std::size_t{4097}, (std::size_t{1} << 20) + 3, kMaxBytes})
        for (int sender = 0; sender < 2; ++sender, ++message) exchange(offset, size, sender, message);
    link_.reset();
    const ProcessState after = process_state();
    if (after.memfd_fds != 0 || after.memfd_maps != 0 || after.fds != before_.fds - link_fds_)
      throw std::runtime_error(fmt::format("rank {} after destroying the link: {} memfd descriptors, {} memfd "
                                           "mappings, {} descriptors (before open: {}, of which the link's {})",
                                           rank_, after.memfd_fds, after.memfd_maps, after.fds, before_.fds,
                                           link_fds_));
  }

 private:
  void exchange(std::size_t offset, std::size_t size, int sender, std::uint64_t message) {
    const PayloadKey key{payload_seed(7, message, sender), message};
    if (rank_ == sender) {
      const std::span<std::byte> msg = link_->message_memory(offset + size).subspan(offset, size);
      fill_message(msg, key);
      link_->send(msg);
      return;
    }
    into_.resize(size + 1);
    expect_exact(link_->recv(std::span(into_).subspan(1, size)), key, message, sender, rank_);
  }

  int rank_;
  std::unique_ptr<Link>& link_;
  int link_fds_;
  ProcessState before_;
  std::vector<std::byte> into_;
};

std::string run_leak_check(const Mechanism& m, WaitPolicy wait) {
  static const Topology topology = Topology::load_this_machine();
  const std::vector<int> pus = topology.allowed_pus();
  const int fds_before = count_fds();
  std::unique_ptr<Link> link = m.make_link(LinkConfig{kMaxBytes, wait});
  const int link_fds = count_fds() - fds_before;
  try {
    RankGroup group(topology, GroupPlan{{pus.front(), pus.back()}, wait, 60.0},
                    [&](int rank) { return std::make_unique<LeakProgram>(rank, link, link_fds); });
    group.run(Batch{0, 1}, 0);
  } catch (const RankFailure& e) {
    return e.what();
  }
  return "";
}

TEST(MemfdMap, LeavesNoDescriptorOrMappingBehindInEitherRank) {
  for (WaitPolicy wait : {WaitPolicy::spin, WaitPolicy::eventfd})
    EXPECT_EQ(run_leak_check(mechanism("memfd-map"), wait), "") << to_string(wait);
}

// The huge variant, byte-exact up to 16 MiB at unaligned offsets, on pages
// reserved here: 9 per side for a 16 MiB link (buffer_bytes()).
TEST(MemfdMapHuge, LeavesNothingBehindOnReservedHugePages) {
  const long pages = 2 * static_cast<long>(MemfdLink::buffer_bytes(kMaxBytes, true) / kHugePageBytes);
  const HugePageReservation reservation(pages);
  if (!reservation.refusal().empty()) GTEST_SKIP() << reservation.refusal();
  const Availability availability = mechanism("memfd-map-huge").probe();
  ASSERT_TRUE(availability.available) << availability.reason;
  EXPECT_EQ(run_leak_check(mechanism("memfd-map-huge"), WaitPolicy::block), "");
}

TEST(MemfdMapHuge, NoFreeHugePageIsUnavailableWithTheCountersAndTheFix) {
  const testing::FakeRoot root;
  root.write("proc/sys/vm/nr_hugepages", "0\n");
  root.write("proc/sys/vm/nr_overcommit_hugepages", "0\n");
  root.write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n");
  const Availability a = huge_page_counters(root.str());
  EXPECT_FALSE(a.available);
  EXPECT_FALSE(a.failed);
  EXPECT_NE(a.reason.find("no free 2 MiB huge page: vm.nr_hugepages=0, free_hugepages=0"), std::string::npos)
      << a.reason;
  EXPECT_NE(a.fix.find("sysctl vm.nr_hugepages=N"), std::string::npos) << a.fix;
  EXPECT_NE(a.fix.find("hugetlbfs"), std::string::npos) << a.fix;
}

TEST(MemfdMapHuge, FreeOrOvercommittedHugePagesPassTheCounters) {
  const testing::FakeRoot root;
  root.write("proc/sys/vm/nr_hugepages", "4\n");
  root.write("proc/sys/vm/nr_overcommit_hugepages", "0\n");
  root.write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "3\n");
  EXPECT_TRUE(huge_page_counters(root.str()).available);
  root.write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n");
  root.write("proc/sys/vm/nr_overcommit_hugepages", "8\n");
  EXPECT_TRUE(huge_page_counters(root.str()).available);
}

TEST(MemfdMapHuge, KernelWithoutHugePagesNamesTheMissingDirectory) {
  const testing::FakeRoot root;
  root.write("proc/sys/vm/nr_hugepages", "0\n");
  const Availability a = huge_page_counters(root.str());
  EXPECT_FALSE(a.available);
  EXPECT_NE(a.reason.find("hugepages-2048kB"), std::string::npos) << a.reason;
}

}  // namespace
}  // namespace ipcatlas
