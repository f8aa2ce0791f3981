"""The one way the analysis reads an input file (result files and peer tools' output).

Inputs may be anything a user, or another user, points us at: /dev/zero reads
forever, a fifo blocks, a 50 GB file exhausts memory. Only a regular file is
read, and at most MAX_INPUT_BYTES of it.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .safe_output import describe_kind

MAX_INPUT_BYTES = 1 << 30  # far above any real result file (a 5000-benchmark sweep is a few MB)


class InputFileError(ValueError):
    """An input that cannot be read; the message starts with the path, so a CLI prints it as is."""


def read_input(path: str | Path) -> bytes:
    """The bytes of a regular file of at most MAX_INPUT_BYTES; raises InputFileError naming it."""
    try:
        _check_regular(path, os.stat(path))  # before opening: opening some devices has effects
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise InputFileError(f"{path}: cannot read: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as stream:
        _check_regular(path, os.fstat(descriptor))  # it may have been replaced since
        try:
            data = stream.read(MAX_INPUT_BYTES + 1)  # bounded even if the file grows meanwhile
        except OSError as error:
            raise InputFileError(f"{path}: cannot read: {error.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:  # /proc files say 0 bytes, and a file may grow after fstat
        raise InputFileError(_too_large(path))
    return data


def _check_regular(path: str | Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(f"{path}: cannot read: it is {describe_kind(info.st_mode)}, not a regular file")
    if info.st_size > MAX_INPUT_BYTES:
        raise InputFileError(_too_large(path))


def _too_large(path: str | Path) -> str:
    return f"{path}: cannot read: more than {MAX_INPUT_BYTES} bytes, too large for an input file"
