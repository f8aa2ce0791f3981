"""safe_output.py: the one writer. Hostile targets (symlinks, fifos, directories, a planted
`X.tmp`) are made in tmp_path; nothing here points at a system file."""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from ipcatlas_analysis.safe_output import (STAGING_PREFIX, OutputError, check_file_target, output_directory,
                                           write_file, write_text)


def test_writes_a_new_file_with_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary file left


def test_replaces_an_existing_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("old\n")
    write_text(target, "new\n")
    assert target.read_text() == "new\n"


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path: Path, victim: Path,
                                                        hostile: Callable[[str, Path], Path], kind: str) -> None:
    target = hostile(kind, tmp_path / "out.json")
    with pytest.raises(OutputError, match=rf"^{target}: refusing to write: it exists and is a {kind}"):
        write_text(target, "evil\n")
    assert victim.read_text() == "precious\n"
    assert os.path.lexists(target)  # left as it was
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_dangling_symlink_is_refused_and_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.symlink_to(tmp_path / "would-be-created")
    with pytest.raises(OutputError, match="is a symlink"):
        write_text(target, "evil\n")
    assert not (tmp_path / "would-be-created").exists()


def test_a_planted_tmp_symlink_is_never_followed(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "report.html"
    for planted in ("report.html.tmp", ".report.html.tmp", "report.html~"):
        (tmp_path / planted).symlink_to(victim)
    write_text(target, "<html>\n")
    assert target.read_text() == "<html>\n"
    assert victim.read_text() == "precious\n"
    assert all((tmp_path / p).is_symlink() for p in ("report.html.tmp", ".report.html.tmp", "report.html~"))


def enospc_after_half(content: bytes) -> Callable[[BinaryIO], None]:
    """A fill function that writes half of `content`, then fails as a full disk does."""
    def fill(stream: BinaryIO) -> None:
        stream.write(content[:len(content) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return fill


def test_a_full_disk_keeps_the_old_file_and_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "thresholds.json"
    target.write_text("old and complete\n")
    with pytest.raises(OutputError, match=rf"^{target}: cannot write: No space left on device"):
        write_file(target, enospc_after_half(b"x" * 4096))
    assert target.read_text() == "old and complete\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thresholds.json"]


def test_a_full_disk_at_fsync_creates_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "new.json"
    with pytest.raises(OutputError, match=rf"^{target}: cannot write: No space left on device"):
        write_text(target, "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_and_an_input_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        check_file_target(tmp_path / "absent" / "out.json")
    source = tmp_path / "run.json"
    source.write_text("{}")
    with pytest.raises(OutputError, match="it is also an input file"):
        check_file_target(tmp_path / "." / "run.json", [source])


def test_a_new_directory_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report"
    with output_directory(target) as staging:
        write_text(staging / "one.txt", "1")
        assert not target.exists() and not (tmp_path / "a").exists()
    assert sorted(p.name for p in target.iterdir()) == ["one.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # the staging directory is gone


def test_a_failure_leaves_no_directory_behind(tmp_path: Path) -> None:
    target = tmp_path / "new" / "report"
    with pytest.raises(RuntimeError), output_directory(target) as staging:
        write_text(staging / "half.html", "<html>")
        raise RuntimeError("crash while drawing")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_leaves_an_existing_directory_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("old")
    with pytest.raises(KeyboardInterrupt), output_directory(tmp_path) as staging:
        write_text(staging / "report.html", "new")
        raise KeyboardInterrupt
    assert (tmp_path / "report.html").read_text() == "old"
    assert not any(p.name.startswith(STAGING_PREFIX) for p in tmp_path.iterdir())


def test_publishing_refuses_a_planted_symlink_before_replacing_anything(tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_text("old a")
    (out / "b.png").symlink_to(victim)
    with pytest.raises(OutputError, match=r"b\.png: refusing to write: it exists and is a symlink"), \
            output_directory(out) as staging:
        write_text(staging / "a.png", "new a")
        write_text(staging / "b.png", "new b")
    assert (out / "a.png").read_text() == "old a"
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_an_output_directory_that_is_something_else_is_refused(tmp_path: Path, victim: Path,
                                                               hostile: Callable[[str, Path], Path],
                                                               kind: str) -> None:
    target = hostile(kind, tmp_path / "out")
    with pytest.raises(OutputError, match="not a directory"), output_directory(target):
        pass
    assert victim.read_text() == "precious\n"
