"""The lock readers' shortcuts give exactly what the general paths give.

Markers in the common written forms are checked and judged without packaging
(`drift_guard.requires.normalize_marker` / `judge_marker`), and uv.lock's reader leaves out the
walks whose answer it already has. Each lock fixture (and generated locks) is read both ways,
for several targets and selections, and the sources compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import _scale
from drift_guard import requires
from drift_guard.models import ReadContext
from drift_guard.readers import _fasttoml, _toml, pipfile_lock, poetry_lock, pylock, uv_lock
from tests.helpers import ROOT
from tests.test_readers_fast import _kept

READERS = {"uv.lock": uv_lock, "poetry.lock": poetry_lock, "pylock.toml": pylock,
           "Pipfile.lock": pipfile_lock}
LOCKS = sorted(p for p in (ROOT / "fixtures").rglob("*")
               if p.name in READERS or (p.name.startswith("pylock.") and p.suffix == ".toml"))

_LINUX = {"implementation_name": "cpython", "implementation_version": "3.12.4",
          "os_name": "posix", "platform_machine": "x86_64", "platform_release": "6.0",
          "platform_system": "Linux", "platform_version": "#1", "python_full_version": "3.12.4",
          "platform_python_implementation": "CPython", "python_version": "3.12",
          "sys_platform": "linux"}
_WINDOWS = {**_LINUX, "os_name": "nt", "platform_machine": "AMD64", "platform_system": "Windows",
            "sys_platform": "win32", "python_full_version": "3.9.13", "python_version": "3.9",
            "implementation_version": "3.9.13"}
_MAC = {**_LINUX, "platform_machine": "arm64", "platform_system": "Darwin",
        "sys_platform": "darwin", "python_full_version": "3.13.1", "python_version": "3.13",
        "implementation_version": "3.13.1"}
CONTEXTS: Dict[str, ReadContext] = {
    "linux": ReadContext(markers=_LINUX),
    "windows, every group": ReadContext(markers=_WINDOWS, with_groups=("dev", "docs", "test",
                                                                      "lint", "develop")),
    "mac, extras": ReadContext(markers=_MAC, extras=("cpu", "gpu", "socks", "fast", "all")),
    "linux, only dev": ReadContext(markers=_LINUX, only_groups=("dev",)),
}


def _read(reader: Any, path: Path, ctx: ReadContext) -> Any:
    try:
        return reader.read(str(path), ctx)
    except Exception as exc:  # noqa: BLE001 - the same error either way
        return repr(exc)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut off, every remembered answer forgotten."""
    monkeypatch.setattr(requires, "judge_marker", lambda marker, markers: None)
    monkeypatch.setattr(requires, "normalize_marker", lambda marker: None)
    monkeypatch.setattr(uv_lock, "_SHORTCUTS", False)
    monkeypatch.setattr(_toml, "_HOLDS", {})
    monkeypatch.setattr(_toml, "_VALID_MARKERS", set())
    monkeypatch.setattr(_toml, "_MARKERS", {})


@pytest.mark.parametrize("ctx", CONTEXTS.values(), ids=list(CONTEXTS))
@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_readers_give_the_same_source_without_their_shortcuts(
        path: Path, ctx: ReadContext, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = READERS.get(path.name, pylock)
    fast = _read(reader, path, ctx)
    _general(monkeypatch)
    assert fast == _read(reader, path, ctx)


@pytest.mark.parametrize("fmt", sorted(_scale.LOCK_WRITERS))
def test_generated_locks_read_alike_without_the_shortcuts(
        fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = _scale.LOCK_WRITERS[fmt](tmp_path, 60)
    reader = READERS[fmt]
    for ctx in CONTEXTS.values():
        fast = _read(reader, lock, ctx)
        with monkeypatch.context() as m:
            _general(m)
            assert fast == _read(reader, lock, ctx)


def test_common_markers_are_checked_without_packaging(tmp_path: Path) -> None:
    """A lock whose markers are all in the common forms is read without importing
    packaging.markers."""
    import subprocess
    import sys
    import textwrap

    lock = _scale.LOCK_WRITERS["uv.lock"](tmp_path, 30)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from drift_guard.models import ReadContext
        from drift_guard.readers import uv_lock
        source = uv_lock.read({str(lock)!r}, ReadContext(markers={_LINUX!r}))
        assert len(source.requirements) >= 30, source
        print("packaging.markers" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------- the fast TOML reader: tables of one layout

_KEY = st.sampled_from(["url", "hash", "size", "name", "marker", "upload-time"])
_VALUE = st.one_of(
    st.sampled_from(['"https://x/a.whl"', '"sha256:ab"', '""', '"a=b, c = d"', '"{ x = 1 }"',
                     "0", "12", "-3", "true", "false", "01", '"\\u00e9"', "1.5", "'lit'"]),
)
_SPACE = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def _table(draw: Any) -> str:
    pairs = draw(st.lists(st.tuples(_KEY, _VALUE), max_size=4))
    gap = draw(_SPACE)
    inner = f"{gap},{draw(_SPACE)}".join(f"{k}{draw(_SPACE)}={draw(_SPACE)}{v}" for k, v in pairs)
    return "{" + gap + inner + draw(_SPACE) + "}"


@settings(max_examples=600, deadline=None)
@given(
    first=_table(),
    rest=st.lists(st.one_of(_table(), st.just("")), max_size=5),
    repeat=st.integers(0, 4),
    comma=st.sampled_from([",", ",", ", # c", ""]),
    sdist=st.one_of(_table(), st.just("")),
)
def test_fast_toml_reads_tables_of_one_layout_as_tomllib(
        first: str, rest: List[str], repeat: int, comma: str, sdist: str) -> None:
    """The pattern made for the first table's layout (kept fields or all of them) reads what
    tomllib reads, or leaves the document to it."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11
        import tomli as tomllib

    lines = [first] * (1 + repeat) + [t for t in rest if t]
    doc = "".join(f"[[package]]\nname = \"p{n}\"\nwheels = [\n"
                  + "".join(f"    {t}{comma}\n" for t in lines[n:] + lines[:n])
                  + "]\n" + (f"sdist = {sdist}\n" if sdist else "") + "\n" for n in range(3))
    try:
        expected: Any = tomllib.loads(doc)
    except (tomllib.TOMLDecodeError, ValueError):
        expected = None
    keep = {(("package",), "wheels"): frozenset({"hash", "size"}),
            (("package",), "sdist"): frozenset({"hash"})}
    for fields in (keep, None):
        fast = _fasttoml.loads(doc, fields)
        if fast is None:
            continue
        assert expected is not None
        if fields:  # the other fields may be left out ("plain" tables only), never a kept one
            fast, expected_here = _kept(fast, fields), _kept(expected, fields)
        else:
            expected_here = expected
        assert _typed(fast) == _typed(expected_here)


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return ("table", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("array", [_typed(v) for v in value])
    return (type(value).__name__, value)


@pytest.mark.parametrize("doc", [
    # a key twice in every table, in the first, in a later one
    '[[package]]\nwheels = [\n    { hash = "a", hash = "b" },\n    { hash = "a", hash = "b" },\n]\n',
    '[[package]]\nwheels = [\n    { hash = "a", size = 1, hash = "b" },\n    { hash = "c" },\n]\n',
    '[[package]]\nwheels = [\n    { hash = "a", size = 1 },\n    { hash = "a", size = 1, size = 2 },\n]\n',
    '[[package]]\nsdist = { hash = "a", url = "u", hash = "b" }\n',
    '[[package]]\nsdist = { hash = "a", url = "u" }\n[[package]]\nsdist = { hash = "a", hash = "u" }\n',
    # a later table of another kind of value where the first had a string
    '[[package]]\nwheels = [\n    { hash = "a", size = 1 },\n    { hash = 2, size = 1 },\n]\n',
    '[[package]]\nsdist = { hash = "a" }\n[[package]]\nsdist = { hash = true }\n',
])
def test_fast_toml_refuses_or_reads_as_tomllib_tables_that_break_the_layout(doc: str) -> None:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11
        import tomli as tomllib

    try:
        expected: Any = tomllib.loads(doc)
    except tomllib.TOMLDecodeError:
        expected = None
    keep = {(("package",), "wheels"): frozenset({"hash"}),
            (("package",), "sdist"): frozenset({"hash"})}
    for fields in (None, keep, None, keep):  # twice: with the layout of the run before known
        fast = _fasttoml.loads(doc, fields)
        if expected is None:
            assert fast is None
        elif fast is not None:
            assert _typed(_kept(fast, keep)) == _typed(_kept(expected, keep))


_PIECE = st.sampled_from(['a', ' ', '\\"', '\\\\', '\\n', '\\t', '\\u00e9', '\\ud83d', '\\U0001F600',
                          '\\x41', '\\/', "'", '=', ',', '}', '{', '#', '\\b', '\\f', '\\r', '\\e'])


@settings(max_examples=600, deadline=None)
@given(values=st.lists(st.tuples(_KEY, st.one_of(
    st.lists(_PIECE, max_size=5).map(lambda p: '"' + "".join(p) + '"'),
    st.sampled_from(["1", "true", "-0", '"plain"']))), max_size=4),
    gap=_SPACE, tail=st.sampled_from(["", " ", " # c", ",", " x"]))
def test_fast_toml_reads_inline_tables_with_escapes_as_tomllib(
        values: List[Any], gap: str, tail: str) -> None:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11
        import tomli as tomllib

    doc = ("[package.dependencies]\nx = {" + gap + f"{gap},{gap}".join(
        f"{k}{gap}={gap}{v}" for k, v in values) + gap + "}" + tail + "\n")
    try:
        expected: Any = _typed(tomllib.loads(doc))
    except tomllib.TOMLDecodeError:
        expected = None
    fast = _fasttoml.loads(doc)
    if fast is not None:
        assert _typed(fast) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([
    '{', '}', '    "_meta": {', '    "default": {', '    "develop": {', '    "d\\u00e9v": {',
    '        "requests": {', '        "a.b": {', '        "x\\"y": {', '         "no": {',
    '       "no": {', '            "version": "==1.0"', '        "flat": "*"', '    "cat" : {',
    '        },', '    },', '', '  ', '\t"x": {', '        "e\\u00e9": {',
]), max_size=14), st.sampled_from(["", "\n"]))
def test_pipfile_lock_lines_by_search_are_the_lines_by_splitting(
        lines: List[str], end: str) -> None:
    text = "\n".join(lines) + end
    assert pipfile_lock._lines_by_search(text) == pipfile_lock._lines_by_splitting(text)
