"""The fast paths of the readers give exactly what the full paths give.

`_fasttoml.loads` must equal `tomllib.loads` (same values, same types, same order) on every
document it accepts, and accept what the lock tools write; anything it is not sure of goes to
tomllib, which also decides every error. Checked on the real lock fixtures, on generated
5,000-style locks, on hand-made corner cases of TOML's table rules, and on random changes.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import _scale
from drift_guard.models import ReadContext
from drift_guard.readers import _fasttoml, pipfile_lock, poetry_lock, pylock, requirements, uv_lock
from tests.helpers import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*")
                  if p.suffix in (".toml", ".lock") and p.name != "Pipfile.lock")
# What the fast reader leaves to tomllib on purpose: dates (uv's pylock.toml export writes
# `upload-time = 2026-...Z` unquoted) and arrays of arrays (uv's `conflicts`).
NOT_FAST = {"fixtures/locks/uv-demo/pylock.toml", "fixtures/locks/cases/uv-conflicts/uv.lock"}


def typed(value: Any) -> Any:
    """`value` with every type and every table's key order made part of equality
    (`1 == True` and `{a, b} == {b, a}` must not hide a difference)."""
    if isinstance(value, dict):
        return ("table", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("array", [typed(v) for v in value])
    return (type(value).__name__, value)


def full(text: str) -> Any:
    try:
        return typed(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return "error"


def agrees(text: str) -> bool:
    fast = _fasttoml.loads(text)
    return fast is None or typed(fast) == full(text)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_toml_equals_tomllib_on_every_fixture(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _fasttoml.loads(text)
    if str(path.relative_to(ROOT)) in NOT_FAST:
        assert fast is None
        return
    assert fast is not None, "the fast reader should read what the tools write"
    assert typed(fast) == full(text)


@pytest.mark.parametrize("fmt", sorted(_scale.LOCK_WRITERS))
def test_fast_toml_equals_tomllib_on_generated_locks(fmt: str, tmp_path: Path) -> None:
    lock = _scale.LOCK_WRITERS[fmt](tmp_path, 60)
    for path in (lock, tmp_path / "pyproject.toml"):
        if path.suffix in (".toml", ".lock") and path.name != "Pipfile.lock" and path.exists():
            text = path.read_text()
            fast = _fasttoml.loads(text)
            assert fast is not None
            assert typed(fast) == full(text)


CORNERS = [
    "",
    "\n\n",
    "# only a comment\n",
    'a = "x"\na = "y"\n',  # a key twice
    'a = "x"\n"a" = "y"\n',  # the same key, quoted
    "[a]\n[a]\n",  # a table twice
    "[a.b]\n[a]\n",  # a super-table after its sub-table: allowed
    "[a.b]\n[a]\nb = 1\n",  # ... but not to redefine it
    "[a]\nb = 1\n[a.b]\n",
    "[a]\nb = {c = 1}\n[a.b]\n",
    "[a]\nb = {c = 1}\n[a.b.d]\n",
    "[a]\nb = [{c = 1}]\n[[a.b]]\n",
    "[[a]]\n[a]\n",
    "[a]\n[[a]]\n",
    "[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a]]\n[a.b]\n",
    "[[a]]\n[a.b]\n[a.b]\n",
    "[[a.b]]\n[a]\n",
    "[[a]]\n[[a.b]]\nc = 1\n[a.b.d]\n",
    "a = 1\n[a.b]\n",
    "a = {b = 1, b = 2}\n",
    "a = {b = 1, c = {d = 1, d = 2}}\n",
    "a = {b = 1,}\n",
    "a = [1, 2,]\n",
    "a = [\n  1,\n  2\n]\n",
    "a = [\n  1\n  2\n]\n",
    "a = [\n  1,\n  # comment\n\n  2,\n]\n",
    "a = [\n]\n",
    "a = [\n  [1],\n]\n",
    "a = [\n  [1]\n]\n",
    "a = [ # comment\n  1,\n]\n",
    'a = ["x", "y"]\n',
    'a = ["x" "y"]\n',
    'a = {b = "x", c = ["y", {d = true}], e = -0}\n',
    'a = "tab\there"\n',
    'a = "esc \\" \\\\ \\n \\t \\u00e9 \\b \\f \\r"\n',
    'a = "\\ud800"\n',
    'a = "\\U0001F600"\n',
    'a = "\\/"\n',
    'a = "\\x41"\n',
    "a = 'literal'\n",
    'a = """multi"""\n',
    "a = 1.5\n",
    "a = 1_000\n",
    "a = +1\n",
    "a = 0x1F\n",
    "a = 01\n",
    "a = 1979-05-27\n",
    "a = inf\n",
    "a = true\nb = false\nc = 0\nd = -17\n",
    "a.b = 1\n",
    "  a = 1\n",
    "a = 1 # comment\n",
    "a = 1 b = 2\n",
    "[a] # comment\nb = 1\n",
    "[ a . b ]\n",
    '["a"]\n',
    "[a]]\n",
    "[[a]\n",
    "[a] b = 1\n",
    'a = "x"\r\nb = "y"\r\n',
    'a = "x"\rb = 1\n',
    "a = \"unterminated\n",
    'a = "x" # a "quoted" comment\n',
    'a = "# not a comment"\n',
    "a = { b = 1 } # c\n",
    "a = {}\n",
    "a = { }\n",
    "a = {b=1}\n",
    "1 = 2\n",
    "true = false\n",
    "a = 123456789012345678901234567890\n",
    "a = " + "9" * 5000 + "\n",
    "a = [" * 300 + "]" * 300 + "\n",
    "a = \"\x7f\"\n",
    "a = \"\x01\"\n",
    "# comment with \x01\n",
    "a = 1\n\x01\n",
    "[t]\na = 1\na = 2\n", "[t]\na = [\n  1,\n]\na = 2\n", "[t]\na = [\n  1\n  2\n]\n",
    "[t]\na = {b = 1}}\n", "[t]\na = [1] ]\n", "[t]\na = [\n  1,\n", "[t]\na = [\n]]\n",
    "[t]\na = [\n  1,\n]\n  ]\n", "[t]\na = [\n  1,\n]\n[1]\n", "a = [\n[1]\n]\n",
]


@pytest.mark.parametrize("text", CORNERS)
def test_fast_toml_agrees_with_tomllib_on_corner_cases(text: str) -> None:
    assert agrees(text)


@pytest.mark.parametrize("text", [
    "[a.b]\n[a]\n", 'a = {b = "x", c = ["y", {d = true}], e = -0}\n',
    "[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a]]\n[a.b]\n",
    'a = "esc \\" \\\\ \\n \\t \\u00e9 \\b \\f \\r"\n', "a = [\n  1,\n  2\n]\n",
    # section bodies read whole, and the layouts that send one back to the line-at-a-time path
    '[t]\na = {b = "}"} # c }\nd = 1\n', "[t]\na = [\n]\nb = [\n  1,\n]  \nc = 2\n",
    "[t]\na = [\n1,\n  2,\n]\nb = 3\n", "[t]\na = 1\n\n# c\nb = [\n  # c\n  2,\n\n]\n\n",
    '[t]\n"q k" = "v"\n"" = 1\nx = ["a", "b",]\ny = {}\n', "[t]\na = [\n  [1, 2],\n  [3],\n]\n",
    '[[p]]\nn = "a"\nd = [\n  { n = "b" },\n  { n = "c", m = "x" },\n]\n[[p]]\nn = "b"\n',
])
def test_fast_toml_reads_these_itself(text: str) -> None:
    fast = _fasttoml.loads(text)
    assert fast is not None and typed(fast) == full(text)


def _mutate(text: str, rng: random.Random, steps: int) -> str:
    pieces = ['"', "'", "[", "]", "{", "}", "=", ",", ".", "#", "\n", " ", "\\", "a", "1",
              "[[", "]]", "\t", "-", "true", "\x7f"]
    for _ in range(steps):
        lines = text.split("\n")
        op = rng.randrange(6)
        if op == 0 and text:
            i = rng.randrange(len(text))
            text = text[:i] + text[i + 1:]
        elif op == 1:
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(pieces) + text[i:]
        elif op == 2 and lines:
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
            text = "\n".join(lines)
        elif op == 3 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == 4 and lines:
            del lines[rng.randrange(len(lines))]
            text = "\n".join(lines)
        elif text:
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice(pieces) + text[i + 1:]
    return text


SMALL = [p for p in FIXTURES if p.stat().st_size < 20_000]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(SMALL) - 1), st.integers(min_value=1, max_value=4),
       st.randoms(use_true_random=False))
def test_fast_toml_agrees_with_tomllib_on_random_changes(which: int, steps: int,
                                                         rng: random.Random) -> None:
    text = _mutate(SMALL[which].read_text(encoding="utf-8"), rng, steps)
    assert agrees(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "[a]", "[a.b]", "[[a]]", "[[a.b]]", "[b]", "[[b]]", "a = 1", "b = 2", "c = {d = 1}",
    "b = {x = 1}", "d = [1]", 'e = "s"', "[a.c]", "[[a.c]]", "c = [{d = 1}]", "",
    "[a.b.c]", "b = [\n  1,\n]", "[[c]]", "[c.b]", "[c.b.d]",
]), max_size=12))
def test_fast_toml_follows_tomllib_table_rules(lines: List[str]) -> None:
    assert agrees("\n".join(lines) + "\n")


# ------------------------------------------------------------------ readers, fast vs full


def _ctx() -> ReadContext:
    env = {"implementation_name": "cpython", "implementation_version": "3.11.7",
           "os_name": "posix", "platform_machine": "x86_64", "platform_release": "6.0",
           "platform_system": "Linux", "platform_version": "#1", "python_full_version": "3.11.7",
           "platform_python_implementation": "CPython", "python_version": "3.11",
           "sys_platform": "linux"}
    return ReadContext(markers=env)


READERS = {"uv.lock": uv_lock, "poetry.lock": poetry_lock, "pylock.toml": pylock}
LOCKS = sorted(p for p in (ROOT / "fixtures" / "locks").rglob("*")
               if p.name in READERS or (p.name.startswith("pylock.") and p.suffix == ".toml"))


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_readers_give_the_same_source_with_and_without_the_fast_toml_path(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = READERS.get(path.name, pylock)
    try:
        fast = reader.read(str(path), _ctx())
    except Exception as exc:  # noqa: BLE001 - the same error either way
        fast = repr(exc)  # type: ignore[assignment]
    monkeypatch.setattr(_fasttoml, "loads", lambda text, keep=None: None)
    try:
        slow = reader.read(str(path), _ctx())
    except Exception as exc:  # noqa: BLE001
        slow = repr(exc)  # type: ignore[assignment]
    assert fast == slow


@pytest.mark.parametrize("fmt", sorted(_scale.LOCK_WRITERS))
def test_readers_give_the_same_source_on_generated_locks(
        fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = _scale.LOCK_WRITERS[fmt](tmp_path, 40)
    reader = {"Pipfile.lock": pipfile_lock, **READERS}[fmt]
    fast = reader.read(str(lock), _ctx())
    monkeypatch.setattr(_fasttoml, "loads", lambda text, keep=None: None)
    assert fast == reader.read(str(lock), _ctx())


# ------------------------------------------------------------- requirements: --hash options


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["sha256", "sha384", "sha512", "md5", "sha1"]),
                          st.text("0123456789abcdefABCDEF:=x\"' \\", min_size=0, max_size=8),
                          st.sampled_from([" ", "  ", "\t", " \t "])), min_size=1, max_size=4),
       st.sampled_from(["", " ", "\t"]))
def test_hash_options_read_as_the_general_option_parser_reads_them(
        hashes: List[Any], lead: str) -> None:
    text = lead + "".join(f"--hash={algo}:{digest}{gap}" for algo, digest, gap in hashes)
    fast_path = requirements._HASHES_ONLY.match(text) is not None
    try:
        got = requirements.parse_options(text)
    except ValueError as exc:
        got = str(exc)  # type: ignore[assignment]
    original = requirements._HASHES_ONLY
    requirements._HASHES_ONLY = re.compile(r"(?!)")  # the general path only
    try:
        try:
            want = requirements.parse_options(text)
        except ValueError as exc:
            want = str(exc)  # type: ignore[assignment]
    finally:
        requirements._HASHES_ONLY = original
    assert got == want, (text, fast_path)


# ------------------------------------------------------------- entry lines without splitting


LOCK_TEXTS = [p for p in FIXTURES if p.suffix == ".lock" or p.name.startswith("pylock")]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(LOCK_TEXTS) - 1),
       st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from([
           "  [[package]]  ", "[[packages]]", "name = 1", "  name=2", "[x]", " [y]", "",
           "\tname\t= 3", "names = 4", "# name = 5", "\x0c", "x\u2028name = 6"])), max_size=6))
def test_entry_lines_finds_what_splitting_finds(which: int, inserts: List[Any]) -> None:
    from drift_guard.readers._toml import entry_lines, entry_lines_by_splitting

    lines = LOCK_TEXTS[which].read_text(encoding="utf-8").split("\n")
    for at, text in inserts:
        lines.insert(at % (len(lines) + 1), text)
    text = "\n".join(lines)
    for header in ("package", "packages", "distribution"):
        count = sum(1 for line in text.splitlines() if line.strip() == f"[[{header}]]")
        for n in (count, count + 1):
            assert entry_lines(text, header, n) == entry_lines_by_splitting(text, header, n)


# ------------------------------------------------------------------ keeping only some fields


def _kept(data: Any, keep: Any, path: tuple = ()) -> Any:  # type: ignore[type-arg]
    """tomllib's `data` with `keep` applied as the fast reader applies it: to inline tables
    of plain values (or arrays of them) at the kept keys."""
    def plain(v: Any) -> bool:
        return isinstance(v, dict) and all(isinstance(x, (str, int)) for x in v.values())

    if isinstance(data, list):
        return [_kept(v, keep, path) for v in data]
    if not isinstance(data, dict):
        return data
    result = {}
    for key, value in data.items():
        fields = keep.get((path, key))
        if fields is not None and plain(value):
            value = {k: v for k, v in value.items() if k in fields}
        elif fields is not None and isinstance(value, list) and value and all(
                plain(v) for v in value):
            value = [{k: v for k, v in t.items() if k in fields} for t in value]
        else:
            value = _kept(value, keep, (*path, key))
        result[key] = value
    return result


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.name in ("uv.lock", "poetry.lock")]
                         + [None], ids=str)
def test_fast_toml_keeps_only_the_named_fields(path: Any, tmp_path: Path) -> None:
    if path is None:
        path = _scale.write_uv(tmp_path, 50)
    keep = {**uv_lock._KEEP, **poetry_lock._KEEP}
    text = path.read_text(encoding="utf-8")
    fast = _fasttoml.loads(text, keep)
    if str(path.relative_to(ROOT) if ROOT in path.parents else path) in NOT_FAST:
        assert fast is None
        return
    assert fast is not None
    assert typed(fast) == typed(_kept(tomllib.loads(text), keep))
    if path.name == "uv.lock":
        packages = fast.get("package") or fast["distribution"]
        assert any("hash" in w for p in packages for w in p.get("wheels", []))
        assert not any("url" in w for p in packages for w in p.get("wheels", []))


# -------------------------------------------------------- requirements: splitting the lines


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #\\\n\r\x0b\x0c\x1c\x85\u2028")), max_size=40))
def test_split_lines_cuts_where_splitlines_cuts(text: str) -> None:
    lines = requirements.split_lines(text)
    assert ["".join(line) for line in lines] == text.splitlines(True)
    assert all(type(line) is requirements.Line for line in lines)
    counts: dict = {}  # type: ignore[type-arg]
    for line in lines:
        if line.ending in ("\n", "\r\n", "\r"):
            counts[line.ending] = counts.get(line.ending, 0) + 1
    want = max(counts, key=lambda e: counts[e]) if counts else "\n"
    assert requirements._dominant_newline(lines) == want


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #=\\\t\xa0\u3000")), max_size=30))
def test_strip_comment_is_pips_comment_removal(text: str) -> None:
    without = requirements.COMMENT.sub("", text)
    stripped = without.strip()
    want = ("", 0) if not stripped else (stripped, len(without) - len(without.lstrip()))
    assert requirements.strip_comment(text) == want


# ------------------------------------------------------------ pyproject: pins in normal form


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["pkg", "Pkg.Lib_x", "a", "a-b", "-a", "a-", "a b", "a_"]),
       st.sampled_from(["==", " (==", "== ", " == ", "===", "=="]),
       st.sampled_from(["1.0", "1.0.0", "1.0+local.1", "1.0a1", "01.0", "1.0 ", "1.0)", "v1",
                        "1.0.post1.dev2", "1!2.0", "1.*", "1.0; python_version > '3'"]),
       st.sampled_from(["", ")"]))
def test_pyproject_pins_read_as_packaging_reads_them(name: str, op: str, version: str,
                                                     close: str) -> None:
    from drift_guard.readers import pyproject
    from drift_guard.readers._toml import Doc

    text = f"{name}{op}{version}{close}"
    doc = Doc("pyproject.toml", {}, "", "fix it")

    def read(fast: bool) -> Any:
        original = pyproject._SIMPLE_PIN
        if not fast:
            pyproject._SIMPLE_PIN = re.compile(r"(?!)")
        try:
            dep = pyproject._pep508(doc, text, "project.dependencies[0]", "main", None, {})
            return (dep.name, dep.specifier, dep.marker, dep.extras, dep.url)
        except Exception as exc:  # noqa: BLE001 - the same error either way
            return str(exc)
        finally:
            pyproject._SIMPLE_PIN = original

    assert read(True) == read(False)
