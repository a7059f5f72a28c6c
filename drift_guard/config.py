"""Configuration: `[tool.drift-guard]` in pyproject.toml, or a `drift_guard` object in Zappa's
stage settings. The same keys in both, `-` and `_` spellings alike."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple

from drift_guard.errors import DriftGuardError


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
    if not isinstance(table, Mapping):
        raise DriftGuardError(f"{where} must be a table of settings", path=path)
    values: Dict[str, Any] = {}
    known = sorted(k.replace("_", "-") for k in (*_LISTS, *_STRINGS, *_BOOLS, *_TABLES))
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        spelled = f"{where}.{raw_key}"
        if key in _LISTS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DriftGuardError(f"{spelled} must be a list of strings", path=path)
            if key == "sources":
                value = [_relative(v, base_dir) for v in value]
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


def load(directory: str = ".") -> Config:
    """`[tool.drift-guard]` of `directory`/pyproject.toml (defaults when there is none)."""
    path = os.path.join(directory, "pyproject.toml")
    if not os.path.isfile(path):
        return Config()
    # Cheap pre-check: most projects have no drift-guard table, and parsing TOML is not free.
    with open(path, "rb") as f:
        if b"drift-guard" not in f.read():
            return Config()
    from drift_guard.readers.pyproject import read_tool_config

    shown = os.path.relpath(path) if not os.path.isabs(directory) else path
    return from_mapping(
        read_tool_config(path), "[tool.drift-guard]", path=shown, base_dir=directory
    )


def merge(base: Config, **overrides: Any) -> Config:
    """`base` with every override that is set (not None, not empty) taking precedence."""
    return base._replace(**{k: v for k, v in overrides.items() if v not in (None, (), [], False)})
