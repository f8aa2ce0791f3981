"""argparse types shared by every analysis command, so an option means and checks the
same thing everywhere. Each raises ArgumentTypeError, which argparse prints as one
line naming the option and the value, with exit status 2."""
from __future__ import annotations

import argparse
import math
from pathlib import Path


def alpha(text: str) -> float:
    """--alpha: a significance level, finite and strictly between 0 and 1."""
    value = _finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a significance level: expected 0 < A < 1, e.g. 0.05")
    return value


def percent(text: str) -> float:
    """Percentages (--threshold, --fail-on-regression): 5 (or 5%) means 5 %, finite and >= 0."""
    value = _finite(text.removesuffix("%"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage: expected a number >= 0, e.g. 5")
    return value


def path(text: str) -> Path:
    """A file or directory name: never empty, which Path() would silently turn into "." (the
    current directory)."""
    if not text:
        raise argparse.ArgumentTypeError("empty path: give a file or directory name")
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a path (it contains a NUL byte)")
    return Path(text)


def nonempty(text: str) -> str:
    """A value that must not be empty, such as --peer [LABEL=]FILE."""
    if not text:
        raise argparse.ArgumentTypeError("empty value")
    return text


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value
