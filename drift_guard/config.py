"""Configuration: `[tool.drift-guard]` in pyproject.toml, or a `drift_guard` object in Zappa's
stage settings. The same keys in both, `-` and `_` spellings alike."""

from __future__ import annotations

import os

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple


class Config(NamedTuple):
    sources: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    allow: Tuple[str, ...] = ()
    python: Optional[str] = None
    venv: Optional[str] = None
    require_pins: bool = False
    with_groups: Tuple[str, ...] = ()
    without_groups: Tuple[str, ...] = ()
    only_groups: Tuple[str, ...] = ()
    extras: Tuple[str, ...] = ()
    lambda_: Mapping[str, Any] = {}
    """Lambda deploy options (Zappa integration): e.g. {"max_unzipped_mb": 250}."""
    code: Tuple[str, ...] = ()
    """Where the application's code lives (directories, files, globs); default: every
    Python file git tracks in the project, minus `code_exclude`."""
    code_exclude: Optional[Tuple[str, ...]] = None
    """Globs left out of the import scan (None: tests, docs, virtualenvs, ...)."""
    fail_on: Optional[Tuple[str, ...]] = None
    """The finding kinds that fail the run (None: every kind)."""
    undeclared: str = "all"
    """"all": every undeclared package fails the run; "imported": only those the code
    imports (the others are still reported)."""
    unresolved: bool = False
    """Look for imports nothing provides (always on when `fail_on` names "unresolved")."""
    imports: bool = True
    """Read the code's imports to rank undeclared findings (false: never scan)."""
    projects: Tuple[str, ...] = ()
    """A monorepo's projects, relative to the directory of the pyproject.toml naming them;
    each is checked on its own (its declarations, its environment, its own config)."""
    top_level: Tuple[str, ...] = ()
    """Requirements files read as top-level (what their packages need is covered), whatever
    their pins suggest; each is a declaration file of its own."""


_LISTS = {
    "sources": "sources",
    "ignore": "ignore",
    "allow": "allow",
    "with": "with_groups",
    "without": "without_groups",
    "only": "only_groups",
    "extras": "extras",
    "code": "code",
    "code_exclude": "code_exclude",
    "fail_on": "fail_on",
    "projects": "projects",
    "top_level": "top_level",
}
_STRINGS = {"python": "python", "venv": "venv", "undeclared": "undeclared"}
_BOOLS = {"require_pins": "require_pins", "unresolved": "unresolved", "imports": "imports"}
_CHOICES = {
    "undeclared": ("all", "imported"),
    "fail_on": ("missing", "mismatch", "undeclared", "unpinned", "broken", "unresolved"),
}
_TABLES = {"lambda": "lambda_"}
_FIELD = {**_LISTS, **_STRINGS, **_BOOLS, **_TABLES}


def from_mapping(
    table: Mapping[str, Any], where: str, path: Optional[str] = None, base_dir: str = "."
) -> Config:
    """Validate a configuration table. `where` names it in errors (e.g. "[tool.drift-guard]").

    Relative `sources`, `python` and `venv` are taken relative to `base_dir`.
    """
    from collections.abc import Mapping  # here: a project without the table never needs it

    if not isinstance(table, Mapping):
        raise DriftGuardError(f"{where} must be a table of settings", path=path)
    values: Dict[str, Any] = {}
    known = sorted(k.replace("_", "-") for k in (*_LISTS, *_STRINGS, *_BOOLS, *_TABLES))
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        spelled = f"{where}.{raw_key}"
        strings = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if any(isinstance(v, str) and "\x00" in v for v in strings):
            raise DriftGuardError(f"{spelled} holds a NUL character", path=path)
        if key in _LISTS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DriftGuardError(f"{spelled} must be a list of strings", path=path)
            if key in ("sources", "top_level"):
                value = [_relative(v, base_dir) for v in value]
            elif key == "projects":
                value = [_project_dir(v, spelled, path) for v in value]
            bad = [v for v in value if key in _CHOICES and v not in _CHOICES[key]]
            if bad:
                raise DriftGuardError(
                    f"{spelled} has {bad[0]!r}; known: {', '.join(_CHOICES[key])}", path=path
                )
            values[_LISTS[key]] = tuple(value)
        elif key in _STRINGS:
            if key in _CHOICES:
                if value not in _CHOICES[key]:
                    raise DriftGuardError(
                        f"{spelled} must be one of: {', '.join(map(repr, _CHOICES[key]))}",
                        path=path,
                    )
                values[_STRINGS[key]] = value
                continue
            if not isinstance(value, str):
                raise DriftGuardError(f"{spelled} must be a string (a path)", path=path)
            values[_STRINGS[key]] = _relative(value, base_dir)
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise DriftGuardError(f"{spelled} must be true or false", path=path)
            values[_BOOLS[key]] = value
        elif key in _TABLES:
            if not isinstance(value, Mapping):
                raise DriftGuardError(f"{spelled} must be a table", path=path)
            values[_TABLES[key]] = dict(value)
        else:
            raise DriftGuardError(
                f"unknown setting {spelled!r}; known settings: {', '.join(known)}",
                path=path,
            )
    return Config(**values)


def overlay(base: Config, table: Mapping[str, Any], where: str, path: Optional[str] = None,
            base_dir: str = ".") -> Config:
    """`base` with the settings `table` gives (validated as `from_mapping` does) replacing
    its own, key by key."""
    given = from_mapping(table, where, path=path, base_dir=base_dir)
    fields = {_FIELD[str(k).replace("-", "_")] for k in table}
    return base._replace(**{f: getattr(given, f) for f in fields})


def _relative(value: str, base_dir: str) -> str:
    value = os.path.expanduser(value)
    if os.path.isabs(value) or base_dir in ("", "."):
        return value
    return os.path.join(base_dir, value)


def _project_dir(value: str, spelled: str, path: Optional[str]) -> str:
    """A monorepo project: a relative directory inside the repository, written with "/"."""
    norm = os.path.normpath(value.replace("\\", "/")) if value.strip() else ""
    if (not norm or norm == "." or os.path.isabs(value)
            or any(ord(c) < 32 or ord(c) == 127 for c in value) or value.startswith(("~", "/"))
            or norm == os.pardir or norm.startswith(os.pardir + os.sep)):
        raise DriftGuardError(
            f"{spelled}: {value[:80]!r} is not a directory below this one; list project "
            'directories relative to it, e.g. "services/api"',
            path=path,
        )
    return norm


def table_of(directory: str = ".") -> Dict[str, Any]:
    """The raw `[tool.drift-guard]` table of `directory`/pyproject.toml ({} when none).

    pyproject.toml is read as a bounded regular file: a FIFO, a special file or an
    unreadable one is bad input (exit 2), never a hang or an internal error.
    """
    from drift_guard import _io

    path = os.path.join(directory, "pyproject.toml")
    if not os.path.lexists(path):
        return {}
    data = _io.read_bytes(path, what="pyproject.toml", shown=_shown(directory, path))
    return _tool_table(path, data)


# pyproject.toml bytes already parsed in this run, by path: the root search and the
# configuration read the same file, and parsing TOML is the slowest part of either.
_parsed: Dict[str, Tuple[bytes, Dict[str, Any]]] = {}


def _tool_table(path: str, data: bytes) -> Dict[str, Any]:
    """The `[tool.drift-guard]` table of the pyproject.toml at `path`, whose bytes are `data`."""
    # Cheap and exact pre-check: a table named drift-guard (or drift_guard) spells the name,
    # unless a quoted key writes it with \u escapes. Most projects have no such table.
    if (b"drift-guard" not in data and b"drift_guard" not in data
            and b"\\u" not in data and b"\\U" not in data):
        return {}
    seen = _parsed.get(path)
    if seen is not None and seen[0] == data:
        return seen[1]
    from drift_guard.readers.pyproject import read_tool_config

    table = read_tool_config(path)
    _parsed[path] = (data, table)
    return table


def _shown(directory: str, path: str) -> str:
    return os.path.relpath(path) if not os.path.isabs(directory) else path


def load(directory: str = ".") -> Config:
    """`[tool.drift-guard]` of `directory`/pyproject.toml (defaults when there is none)."""
    table = table_of(directory)
    if not table:
        return Config()
    path = os.path.join(directory, "pyproject.toml")
    return from_mapping(
        table, "[tool.drift-guard]", path=_shown(directory, path), base_dir=directory
    )


# The files that make a directory a project root (besides `[tool.drift-guard]`).
ROOT_MARKERS = ("poetry.lock", "Pipfile.lock", "uv.lock", "pylock.toml", "requirements.txt")


def find_root(start: str) -> str:
    """The project root for a run started in `start`: the nearest directory, upward, with a
    declaration file or a `[tool.drift-guard]` table, never above the git work tree's root
    (nor, outside git, above the user's home). `start` itself when none is found.
    """
    here = os.path.abspath(start)
    home = os.path.abspath(os.path.expanduser("~"))
    top = _git_root(here)
    current = here
    while True:
        if _is_root(current):
            return current
        parent = os.path.dirname(current)
        if (current == top or parent == current
                or (top is None and (current == home or not _below(here, home)))):
            return here
        current = parent


def _below(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor.rstrip(os.sep) + os.sep)


def _git_root(start: str) -> Optional[str]:
    """The nearest directory at or above `start` holding `.git` (a directory, or the file a
    worktree or submodule has), read from disk without running git."""
    current = start
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _is_root(directory: str) -> bool:
    for name in ROOT_MARKERS:
        if os.path.lexists(os.path.join(directory, name)):
            return True
    path = os.path.join(directory, "pyproject.toml")
    if not os.path.lexists(path):
        return False
    from drift_guard import _io

    data = _io.read_bytes(path, what="pyproject.toml")
    # A table header makes it a root even when the table is empty.
    return (b"[tool.drift-guard" in data or b"[tool.drift_guard" in data
            or bool(_tool_table(path, data)))


def merge(base: Config, **overrides: Any) -> Config:
    """`base` with every override that is set (not None, not empty) taking precedence."""
    return base._replace(**{k: v for k, v in overrides.items() if v not in (None, (), [], False)})
