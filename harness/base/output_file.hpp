// Writing result files without ever harming what is already there.
//
// ipcatlas often runs as root on shared machines, so an output path may name
// anything: /dev/null, another user's symlink, a fifo, a directory. The rules:
// - a target that exists and is not a regular file is refused (UsageError),
//   before any benchmark runs (check_output_target) and again just before
//   the write;
// - the bytes go to a fresh temporary file made with O_EXCL and a random name
//   in the target's own directory (mkstemp), which is flushed to disk and
//   then renamed over the target in one step. A stale "OUT.tmp", or a symlink
//   of that name, is never opened, followed or removed;
// - when anything fails (a full disk, a file-size limit) the temporary file
//   is removed and the error names the target: the old file stays as it was,
//   or no file appears. A reader never sees a truncated result.
#pragma once

#include <string>

namespace ipcatlas {

// Throws UsageError naming `option` and `path` when `path` cannot be the
// target of write_output_file: empty, ending in '/', an existing file that is
// not regular, or a directory that does not let us create a file there.
// Creates nothing: missing parent directories are only checked (their
// nearest existing ancestor must be a writable directory).
void check_output_target(const std::string& option, const std::string& path);

// Replaces (or creates) the regular file `path` with `content`, creating
// missing parent directories. Throws UsageError for a non-regular target and
// SysError naming `path` when writing fails; never leaves a partial file.
void write_output_file(const std::string& path, const std::string& content);

}  // namespace ipcatlas
