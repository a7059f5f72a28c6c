"""The target Python's standard library module names (top level), from the lists shipped in
`stdlib/3.X.txt` (see stdlib/_generate.py for how each was made). The target is never run."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, Tuple

FIRST, LAST = (3, 9), (3, 14)
_CACHE: Dict[Tuple[int, int], FrozenSet[str]] = {}


def version_tuple(version: str) -> Tuple[int, ...]:
    """"3.12.4" -> (3, 12, 4); the leading numeric parts only ("3.13.0rc1" -> (3, 13, 0))."""
    parts = []
    for part in version.split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(parts) or (3,)


def module_names(version: Tuple[int, ...]) -> FrozenSet[str]:
    """The standard library's top-level module names for Python `version` ((3, 12) or
    longer). Versions outside 3.9-3.14 use the nearest list."""
    key = (version + (0,))[:2] if len(version) >= 2 else (3, 0)
    key = max(FIRST, min(LAST, key))  # type: ignore[type-var]
    names = _CACHE.get(key)
    if names is None:
        from drift_guard._io import SMALL_LIMIT, read_text

        path = os.path.join(os.path.dirname(__file__), "stdlib", f"{key[0]}.{key[1]}.txt")
        names = frozenset(read_text(path, limit=SMALL_LIMIT, what="stdlib list").split())
        _CACHE[key] = names
    return names
