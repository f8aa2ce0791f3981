// The output-file rules: nothing but a regular file is ever replaced, a stale
// OUT.tmp is never touched, and a failed write leaves the old file as it was.
// Every hostile file is made in a temporary directory (the tests run as root).
#include "harness/base/output_file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ipcatlas-output-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The names in a directory, to show no temporary file was left behind.
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string usage_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(OutputFile, CreatesAndReplacesRegularFiles) {
  const TempDir dir;
  write_output_file(dir / "sub/run.json", "first");
  EXPECT_EQ(read_text(dir / "sub/run.json"), "first");
  write_output_file(dir / "sub/run.json", "second");
  EXPECT_EQ(read_text(dir / "sub/run.json"), "second");
  EXPECT_EQ(entries(dir.path / "sub"), std::set<std::string>{"run.json"});
  struct stat st {};
  ASSERT_EQ(::stat((dir / "sub/run.json").c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask) << "mkstemp's 0600 must not leak into results";
}

TEST(OutputFile, RefusesEveryTargetThatIsNotARegularFile) {
  const TempDir dir;
  write_text(dir / "victim", "precious");
  fs::create_symlink(dir / "victim", dir / "link.json");
  ASSERT_EQ(::mkfifo((dir / "fifo.json").c_str(), 0600), 0);
  fs::create_directory(dir / "adir");
  for (const std::string name : {"link.json", "fifo.json", "adir"}) {
    const std::string target = dir / name;
    EXPECT_NE(usage_error_of([&] { check_output_target("--out", target); }).find("'" + target + "' exists and is"),
              std::string::npos)
        << name;
    EXPECT_NE(usage_error_of([&] { write_output_file(target, "x"); }), "") << name;
  }
  EXPECT_EQ(read_text(dir / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_TRUE(fs::is_fifo(dir / "fifo.json"));
  EXPECT_NE(usage_error_of([&] { check_output_target("--out", dir / "adir/"); }).find("ends in '/'"),
            std::string::npos);
  EXPECT_NE(usage_error_of([&] { check_output_target("--out", ""); }).find("--out: empty path"), std::string::npos);
}

TEST(OutputFile, NeverFollowsOrRemovesAStaleTmpFile) {
  const TempDir dir;
  write_text(dir / "victim", "precious");
  fs::create_symlink(dir / "victim", dir / "run.json.tmp");
  check_output_target("--out", dir / "run.json");
  write_output_file(dir / "run.json", "results");
  EXPECT_EQ(read_text(dir / "run.json"), "results");
  EXPECT_EQ(read_text(dir / "victim"), "precious");
  EXPECT_TRUE(fs::is_symlink(dir / "run.json.tmp"));
}

TEST(OutputFile, CheckingCreatesNoDirectoryAndRefusesAFileAsDirectory) {
  const TempDir dir;
  check_output_target("--out", dir / "a/b/c/run.json");
  EXPECT_TRUE(entries(dir.path).empty()) << "checking must create nothing";
  write_text(dir / "plain", "x");
  EXPECT_NE(usage_error_of([&] {
              check_output_target("--out", dir / "plain/sub/run.json");
            }).find("is not a directory"),
            std::string::npos);
}

// A write that fails half-way (here: a file-size limit, as a full disk would)
// leaves the old file intact and no temporary file. Runs in a child, since
// the limit and the ignored SIGXFSZ must not outlive the test.
TEST(OutputFile, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  const TempDir dir;
  const std::string target = dir / "run.json";
  write_text(target, "old results");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit small{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &small);
    try {
      write_output_file(target, std::string(1 << 20, 'x'));
    } catch (const SysError& e) {
      const bool names_target = std::string(e.what()).find(target) != std::string::npos;
      ::_exit(names_target && e.err() == EFBIG ? 0 : 3);
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: error without the path or not EFBIG, 4: no error";
  EXPECT_EQ(read_text(target), "old results");
  EXPECT_EQ(entries(dir.path), std::set<std::string>{"run.json"});
}

}  // namespace
}  // namespace ipcatlas
