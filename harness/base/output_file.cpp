#include "harness/base/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

namespace fs = std::filesystem;

// "a symlink", "a directory", ...: what a non-regular file is, for the message.
const char* kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Refuses an existing target that is not a regular file. lstat, so that a
// symlink is refused rather than followed: it may point anywhere.
void refuse_non_regular(const std::string& option, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  throw UsageError(option + " '" + path + "' exists and is " + kind_of(st.st_mode) +
                   "; ipcatlas replaces only regular files");
}

fs::path parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// Closes a descriptor and removes a temporary file unless released.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& target) : path_(temporary_name(target)) {
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0) throw SysError("creating a temporary file beside '" + target + "'", errno);
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void release() { released_ = true; }
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  // dir/.name.XXXXXX: hidden, random, and never the name of a file we did not create.
  static std::string temporary_name(const std::string& target) {
    std::string name = ".";
    name.append(fs::path(target).filename().string()).append(".XXXXXX");
    return (parent_of(target) / name).string();
  }
  std::string path_;
  int fd_ = -1;
  bool released_ = false;
};

// Write-permission bits as a plain open() would give them: mkstemp makes 0600.
mode_t default_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

void write_all(int fd, const std::string& content, const std::string& target) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SysError("writing '" + target + "'", errno);
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void check_output_target(const std::string& option, const std::string& path) {
  if (path.empty()) throw UsageError(option + ": empty path");
  if (path.back() == '/') throw UsageError(option + " '" + path + "' ends in '/': give a file name");
  refuse_non_regular(option, path);
  // The nearest directory that exists must let us create the rest.
  fs::path dir = parent_of(path);
  std::error_code ec;
  while (!fs::exists(fs::symlink_status(dir, ec)) && dir.has_parent_path() && dir != dir.parent_path())
    dir = dir.parent_path();
  if (!fs::is_directory(dir, ec))
    throw UsageError(option + " '" + path + "': '" + dir.string() + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw UsageError(option + " '" + path + "': cannot create files in '" + dir.string() + "': " + errno_name(errno));
}

void write_output_file(const std::string& path, const std::string& content) {
  refuse_non_regular("output file", path);
  std::error_code ec;
  fs::create_directories(parent_of(path), ec);
  if (ec) throw SysError("creating the directory of '" + path + "'", ec.value());
  TemporaryFile tmp(path);
  if (::fchmod(tmp.fd(), default_file_mode()) != 0) throw SysError("fchmod on a file beside '" + path + "'", errno);
  write_all(tmp.fd(), content, path);
  // A full disk may only show at fsync or close; either way the target is untouched.
  if (::fsync(tmp.fd()) != 0) throw SysError("writing '" + path + "' (fsync)", errno);
  if (tmp.close() != 0) throw SysError("writing '" + path + "' (close)", errno);
  refuse_non_regular("output file", path);  // it may have appeared while we wrote
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) throw SysError("renaming into '" + path + "'", errno);
  tmp.release();
}

}  // namespace ipcatlas
