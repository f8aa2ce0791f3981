// --membind: parsing, what this machine can do, and that bound memory is
// where it should be (move_pages) and, when shared, really shared across fork.
#include "harness/machine/memory_binding.hpp"

#include <numa.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/base/error.hpp"
#include "harness/machine/shared_memory.hpp"

namespace ipcatlas {
namespace {

using Kind = MemoryPolicy::Kind;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool has_children() {
  int status;
  return waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD;
}

// Runs `body` in a forked child and returns its exit status (the child exits
// with body's return value; 255 if it did not exit normally).
int run_in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid < 0) throw SysError("fork", errno);
  if (pid == 0) _exit(body());
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw SysError("waitpid", errno);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

std::byte pattern_at(std::size_t i) { return static_cast<std::byte>((i * 7 + 1) & 0xff); }

void write_pattern(std::byte* data, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) data[i] = pattern_at(i);
}

// Index of the first byte that differs from the pattern, or bytes if none.
std::size_t first_mismatch(const std::byte* data, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) {
    if (data[i] != pattern_at(i)) return i;
  }
  return bytes;
}

bool all_zero(const std::byte* data, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) {
    if (data[i] != std::byte{0}) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------

TEST(MemoryBindingParse, AcceptsLocalRemoteAndNodeNumbers) {
  EXPECT_EQ(parse_membind("local").kind, Kind::local);
  EXPECT_EQ(parse_membind("remote").kind, Kind::remote);
  const MemoryPolicy zero = parse_membind("0");
  EXPECT_EQ(zero.kind, Kind::node);
  EXPECT_EQ(zero.node, 0);
  const MemoryPolicy three = parse_membind("3");
  EXPECT_EQ(three.kind, Kind::node);
  EXPECT_EQ(three.node, 3);
  EXPECT_EQ(parse_membind("1023").node, 1023);
}

TEST(MemoryBindingParse, RejectsAnythingElseNamingTheText) {
  for (const char* bad :
       {"", "Local", "REMOTE", "loc", "-1", "+1", " 0", "0 ", "1.5", "0x1", "node0", "1,2", "99999999999999999999"}) {
    try {
      parse_membind(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                "invalid --membind '" + std::string(bad) + "' (expected local, remote or a NUMA node number)");
    }
  }
}

TEST(MemoryBindingParse, ToStringNamesThePolicy) {
  EXPECT_EQ(to_string(MemoryPolicy{}), "");
  EXPECT_EQ(to_string(parse_membind("local")), "local");
  EXPECT_EQ(to_string(parse_membind("remote")), "remote");
  EXPECT_EQ(to_string(parse_membind("0")), "node0");
  EXPECT_EQ(to_string(parse_membind("12")), "node12");
}

// ---------------------------------------------------------------------------
// What this machine can do. The project's test machine has one NUMA node
// (node 0) and PUs 0 and 1; the one-node expectations skip elsewhere.

class MemoryBindingMachine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (numa_available() < 0) GTEST_SKIP() << "no NUMA support here (numa_available() < 0)";
  }
  static bool one_node() { return numa_num_configured_nodes() == 1; }
};

TEST_F(MemoryBindingMachine, NoneAndLocalAreAlwaysAvailable) {
  EXPECT_EQ(membind_unavailable_reason(MemoryPolicy{}), "");
  EXPECT_EQ(membind_unavailable_reason(parse_membind("local")), "");
}

TEST_F(MemoryBindingMachine, NodePastTheLastDoesNotExist) {
  const int missing = numa_max_node() + 1;
  const std::string why = membind_unavailable_reason({Kind::node, missing});
  EXPECT_TRUE(contains(why, "does not exist")) << why;
  EXPECT_TRUE(contains(why, "--membind " + std::to_string(missing) + ": NUMA node " + std::to_string(missing))) << why;
}

TEST_F(MemoryBindingMachine, OnOneNodeRemoteIsUnavailableAndNodeZeroIsFine) {
  if (!one_node()) GTEST_SKIP() << "this machine has " << numa_num_configured_nodes() << " nodes";
  EXPECT_EQ(membind_unavailable_reason(parse_membind("remote")),
            "--membind remote: this machine has one NUMA node, so there is no remote memory");
  EXPECT_EQ(membind_unavailable_reason(parse_membind("0")), "");
  EXPECT_EQ(membind_unavailable_reason(parse_membind("7")), "--membind 7: NUMA node 7 does not exist (nodes: 0)");
}

TEST_F(MemoryBindingMachine, NodeForPuOnOneNode) {
  if (!one_node()) GTEST_SKIP() << "this machine has " << numa_num_configured_nodes() << " nodes";
  const MemoryPolicy local = parse_membind("local");
  EXPECT_EQ(node_for_pu(local, 0), 0);
  EXPECT_EQ(node_for_pu(local, 1), 0);
  EXPECT_EQ(node_for_pu(local, -1), -1);  // an unpinned rank: the kernel decides
  EXPECT_EQ(node_for_pu(MemoryPolicy{}, 0), -1);
  EXPECT_EQ(node_for_pu(MemoryPolicy{}, 1), -1);
  EXPECT_EQ(node_for_pu(parse_membind("0"), 1), 0);
  EXPECT_EQ(node_for_pu(parse_membind("remote"), 0), -1);  // no other node
  EXPECT_EQ(node_for_pu(parse_membind("remote"), 1), -1);
}

TEST_F(MemoryBindingMachine, NodeForPuRemoteIsAnotherAllowedNode) {
  // Holds on any machine: remote is never the PU's own node, and it is -1
  // exactly when membind_unavailable_reason says there is no remote memory.
  const MemoryPolicy remote = parse_membind("remote");
  const bool available = membind_unavailable_reason(remote).empty();
  const int node = node_for_pu(remote, 0);
  EXPECT_NE(node, numa_node_of_cpu(0));
  EXPECT_EQ(node >= 0, available);
}

// ---------------------------------------------------------------------------
// Placement, checked with move_pages, and sharing across fork. Every test
// here forks or maps; none may leave a child behind.

class MemoryBindingPlacement : public ::testing::Test {
 protected:
  static constexpr std::size_t kPages = 64;

  void SetUp() override {
    if (numa_available() < 0) GTEST_SKIP() << "no NUMA support here (numa_available() < 0)";
    ASSERT_FALSE(has_children()) << "a child existed before the test";
  }
  void TearDown() override {
    errno = 0;
    int status;
    EXPECT_EQ(waitpid(-1, &status, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD) << "a child was left behind";
  }
  static std::size_t bytes() { return kPages * page_size(); }
};

TEST_F(MemoryBindingPlacement, SharedMappingBoundBeforeTouchIsSharedAndOnTheNode) {
  SharedMapping shared(bytes());
  ASSERT_EQ(shared.size(), bytes());
  bind_memory(shared.data(), shared.size(), 0);  // before anything touches it

  // Binding allocates nothing: no page is present yet.
  for (const int status : nodes_of_pages(shared.data(), shared.size())) EXPECT_EQ(status, -ENOENT);

  // A forked rank touches every page first (as a rank writing a ring would).
  const int child = run_in_child([&] {
    write_pattern(shared.data(), shared.size());
    for (const int status : nodes_of_pages(shared.data(), shared.size())) {
      if (status != 0) return 1;
    }
    return 0;
  });
  EXPECT_EQ(child, 0) << "in the child, a page was not on node 0";

  // Shared, not copy-on-write: the parent sees what the child wrote. Reading
  // every page also maps it here, which move_pages needs to report it.
  EXPECT_EQ(first_mismatch(shared.data(), shared.size()), shared.size());
  const std::vector<int> nodes = nodes_of_pages(shared.data(), shared.size());
  ASSERT_EQ(nodes.size(), kPages);
  for (std::size_t i = 0; i < nodes.size(); ++i) EXPECT_EQ(nodes[i], 0) << "page " << i;
}

TEST_F(MemoryBindingPlacement, NumaAllocOnNodeIsCopyOnWriteAfterFork) {
  // The trap: numa_alloc_onnode() maps MAP_PRIVATE | MAP_ANONYMOUS and mbinds
  // it. Placed, yes, but private: after fork every write by a rank lands in
  // that rank's own copy of the page, and the other side never sees it. A ring
  // in such memory would silently never carry a message, which is why the
  // project binds MAP_SHARED (or memfd) memory with bind_memory() instead and
  // never uses numa_alloc_onnode() for anything two ranks share.
  void* raw = numa_alloc_onnode(bytes(), 0);
  ASSERT_NE(raw, nullptr);
  auto* data = static_cast<std::byte*>(raw);

  const int child = run_in_child([&] {
    write_pattern(data, bytes());
    return first_mismatch(data, bytes()) == bytes() ? 0 : 1;  // the child sees its own writes
  });
  EXPECT_EQ(child, 0);
  EXPECT_TRUE(all_zero(data, bytes())) << "the parent saw the child's writes";
  numa_free(raw, bytes());
}

TEST_F(MemoryBindingPlacement, PrivateMemoryBoundThenTouchedIsOnTheNode) {
  // Like a PrivateBuffer: mapped, bound, and only then touched (memset).
  void* raw = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  auto* data = static_cast<std::byte*>(raw);
  // One fault per page: no transparent huge page (of any size) may fill in
  // the pages this test leaves untouched.
  ASSERT_EQ(madvise(raw, bytes(), MADV_NOHUGEPAGE), 0);

  bind_memory(data, bytes(), 0);
  const std::size_t page = page_size();
  for (std::size_t i = 0; i < kPages; i += 2) data[i * page] = std::byte{1};  // even pages only

  const std::vector<int> nodes = nodes_of_pages(data, bytes());
  ASSERT_EQ(nodes.size(), kPages);
  for (std::size_t i = 0; i < kPages; ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(nodes[i], 0) << "touched page " << i;
    } else {
      EXPECT_EQ(nodes[i], -ENOENT) << "untouched page " << i;
    }
  }
  // Binding again once touched, to the node the pages are on, passes the
  // MPOL_MF_STRICT check (on another node it would fail with EIO).
  EXPECT_NO_THROW(bind_memory(data, bytes(), 0));
  EXPECT_EQ(munmap(raw, bytes()), 0);
}

TEST_F(MemoryBindingPlacement, UnalignedRangesCoverTheirWholePages) {
  SharedMapping shared(4 * page_size());
  // Bytes 10 .. page + 10 span pages 0 and 1.
  bind_memory(shared.data() + 10, page_size(), 0);
  shared.data()[0] = std::byte{1};
  shared.data()[page_size()] = std::byte{1};
  const std::vector<int> nodes = nodes_of_pages(shared.data() + 10, page_size());
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0], 0);
  EXPECT_EQ(nodes[1], 0);
  EXPECT_TRUE(nodes_of_pages(shared.data(), 0).empty());
}

TEST_F(MemoryBindingPlacement, NegativeNodeIsANoOp) {
  SharedMapping shared(page_size());
  EXPECT_NO_THROW(bind_memory(shared.data(), shared.size(), -1));
}

TEST_F(MemoryBindingPlacement, NonexistentNodeThrowsSysErrorNamingMbind) {
  if (numa_max_node() >= 63) GTEST_SKIP() << "node 63 may exist here";
  SharedMapping shared(page_size());
  try {
    bind_memory(shared.data(), shared.size(), 63);
    ADD_FAILURE() << "mbind to node 63 succeeded";
  } catch (const SysError& e) {
    EXPECT_TRUE(contains(e.what(), "mbind")) << e.what();
    EXPECT_TRUE(contains(e.what(), "node 63")) << e.what();
    EXPECT_EQ(e.err(), EINVAL) << e.what();
  }
}

}  // namespace
}  // namespace ipcatlas
