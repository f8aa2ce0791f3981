"""Formatting shared by tables, figures and JSON output."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

INT64_MAX = 2 ** 63 - 1
_BINARY_SUFFIXES = (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10))


def format_size(size: int) -> str:
    """Write a message size the way the ipcatlas CLI reads it (4096 -> "4K").

    K, M and G are powers of two, as in `ipcatlas run --sizes`, so a size from a
    table can be pasted back on the command line.
    """
    for suffix, factor in _BINARY_SUFFIXES:
        if size >= factor and size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def parse_size(text: str) -> int:
    """"64K" -> 65536: the inverse of format_size, K, M and G being powers of two as in
    `ipcatlas run --sizes`. Raises ValueError for anything else."""
    text = text.strip().upper()
    factors = dict(_BINARY_SUFFIXES)
    factor = factors.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in factors else text
    try:
        size = parse_count(digits) * factor
    except ValueError:
        raise ValueError(f"{text!r} is not a size like 8, 64K or 1M") from None
    if size > INT64_MAX:
        raise ValueError(f"{text!r} is too large a size")
    return size


def parse_count(text: str) -> int:
    """A whole number written in ASCII digits that fits in int64 (tables store sizes, ranks and
    repetitions as int64). Raises ValueError otherwise: str.isdigit() alone accepts "١٢٣"
    and "²", and int() of 5000 digits raises."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(INT64_MAX)) or int(text) > INT64_MAX:
        raise ValueError(f"{text[:40]!r} is not a whole number of at most {INT64_MAX}")
    return int(text)


def format_ns(value: float) -> str:
    """A duration for axis labels: "250 ns", "1.5 µs", "20 ms"."""
    for unit, factor in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= factor:
            return f"{value / factor:.4g} {unit}"
    return f"{value:.4g} ns"


def json_safe(value: Any) -> Any:
    """Turn numpy/pandas scalars and missing values into plain JSON values.

    pandas hands back numpy integers and pd.NA, which json.dump rejects; NaN
    would be written as the non-standard token NaN.
    """
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
