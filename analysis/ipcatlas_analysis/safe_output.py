"""The one way every analysis command writes a file or fills a directory.

The commands often run as root in shared places (/tmp, a CI workspace), so an
output must never replace what it should not:
- a target that exists and is not a regular file (a symlink, a fifo, a device,
  a directory) is refused, never followed or written through;
- a file is written to a temporary file created with O_EXCL (mkstemp) in the
  target's own directory and renamed onto the target, so a planted `X.tmp`
  is never touched and a failed write (ENOSPC) leaves the old file, or none;
- a directory of outputs is built in a private staging directory and only
  moved into place when everything in it was written, so a failed command
  leaves no half-written directory (see OutputDirectory).
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

STAGING_PREFIX = ".ipcatlas-staging-"


class OutputError(Exception):
    """An output that cannot or must not be written; the message starts with the path."""


def _umask() -> int:
    # There is no way to read the umask without setting it.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def describe_kind(mode: int) -> str:
    """"a symlink", "a fifo", ...: what a non-regular file is, for an error message."""
    kinds = ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a fifo"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def check_file_target(path: Path, inputs: Sequence[Path] = ()) -> None:
    """Refuse a target that exists and is not a regular file (lstat: a symlink is refused, not followed),
    whose directory does not exist, or that is one of the command's input files."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{path}: refusing to write: it exists and is {describe_kind(mode)}, not a regular file")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: cannot write: directory {path.parent} does not exist")
    if mode is not None and any(_same_file(path, source) for source in inputs):
        raise OutputError(f"{path}: refusing to write: it is also an input file")


def write_file(path: Path, fill: Callable[[BinaryIO], None]) -> None:
    """Write `path` through a temporary file in its directory: fill(stream) writes the content.

    Raises OutputError naming `path` when the target is refused or the write fails;
    the target is then unchanged and no temporary file remains.
    """
    check_file_target(path)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(temporary, path)
    except BaseException as error:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
        raise


def write_text(path: Path, text: str) -> None:
    """write_file for UTF-8 text."""
    def fill(stream: BinaryIO) -> None:
        stream.write(text.encode("utf-8"))
    write_file(path, fill)


def check_directory_target(path: Path) -> None:
    """Refuse an output directory that exists as something else, before any work is done."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: cannot write: it exists and is not a directory")
    if not path.exists() and _existing_ancestor(path) is None:
        raise OutputError(f"{path}: cannot write: no parent directory exists")


@contextmanager
def output_directory(target: Path) -> Iterator[Path]:
    """A private staging directory to write a command's outputs into; when the block ends
    without an exception, its files land in `target`, else it is removed with everything in it.

    A missing `target` (and its missing parents) is created only then, by renaming the staging
    directory, so a failed command creates nothing. Into an existing `target` each file is moved
    with os.replace after every target name was checked (check_file_target), so a planted
    symlink among them refuses the whole set before anything is replaced.
    """
    check_directory_target(target)
    base = target if target.is_dir() else _existing_ancestor(target)
    assert base is not None
    try:
        staging = Path(tempfile.mkdtemp(dir=base, prefix=STAGING_PREFIX))
    except OSError as error:
        raise OutputError(f"{target}: cannot write: {error.strerror}") from None
    try:
        yield staging
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, target: Path) -> None:
    """Move the staged files into target (created by rename when missing)."""
    try:
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700
            os.rename(staging, target)
            return
        names = sorted(entry.name for entry in staging.iterdir())
        for name in names:
            check_file_target(target / name)
        for name in names:
            os.replace(staging / name, target / name)
    except OSError as error:
        raise OutputError(f"{error.filename or target}: cannot write: {error.strerror or error}") from None


def _existing_ancestor(path: Path) -> Path | None:
    """The nearest ancestor of `path` that is an existing directory (a relative path's is ".")."""
    for ancestor in path.absolute().parents:
        if ancestor.is_dir():
            return ancestor
        if ancestor.exists():
            return None
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
