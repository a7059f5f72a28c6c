"""How paths are shown to the user."""

from __future__ import annotations

import os


def display_path(path: str) -> str:
    """`path` as shown to the user: relative to the current directory when under it,
    absolute otherwise."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, os.getcwd())
    except ValueError:  # another drive on Windows
        return absolute
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return absolute
    return rel
