"""Cells for files people open in a spreadsheet (exports, reports)."""
from __future__ import annotations

_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a leading '."""
    if isinstance(value, str) and value.startswith(_UNSAFE_START):
        return "'" + value
    return value
