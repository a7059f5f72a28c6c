"""The pure parts of drift_guard.aws_lambda against the real things they model: the glob
matchers against fnmatch and pathlib's glob (what Zappa uses), the ELF reader against
`objdump -T` on this interpreter's own extension modules, the runtime table's boundaries."""

from __future__ import annotations

import datetime
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drift_guard.aws_lambda import elf, runtimes
from drift_guard.aws_lambda.excludes import match_name, match_path
from drift_guard.errors import DriftGuardError


@settings(max_examples=500, deadline=None)
@given(st.text("ab.-", max_size=10), st.text("ab.-*?[]!", max_size=8))
def test_name_patterns_match_as_fnmatch_does(name: str, pattern: str) -> None:
    try:
        expected = fnmatch.fnmatchcase(name, pattern)
    except re.error:  # Python 3.9's fnmatch fails on a reversed range ("[?-.]"); 3.10 fixed it
        assume(False)
    assert match_name(name, pattern) == expected


TREE = ["pkg/__init__.py", "pkg/sub/mod.py", "pkg/sub/tests/test_x.py", "pkg/tests/t.py",
        "other/tests/a.py", "top.py", "tests/conftest.py"]


@pytest.mark.parametrize("pattern", ["pkg/**", "**/tests", "pkg/*/tests", "*.py", "pkg/sub",
                                     "**/test_*.py", "other/**/a.py", "*/tests"])
def test_path_globs_remove_what_pathlib_glob_removes(tmp_path: Path, pattern: str) -> None:
    for rel in TREE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    # Zappa: for path in temp_project_path.glob(pattern): unlink / rmtree.
    removed = set()
    for hit in tmp_path.glob(pattern):
        rel = hit.relative_to(tmp_path).as_posix()
        removed |= {f for f in TREE if f == rel or f.startswith(rel + "/")}
    predicted = {f for f in TREE
                 if any(match_path("/".join(f.split("/")[: i + 1]), pattern)
                        for i in range(len(f.split("/"))))}
    assert predicted == removed


def _dynload() -> list:
    return sorted(glob.glob(os.path.join(sys.base_prefix, "lib", "python3*", "lib-dynload",
                                         "*.so")))


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump is not installed")
def test_glibc_needs_agree_with_objdump_for_every_extension_module() -> None:
    modules = _dynload()
    if not modules:
        pytest.skip("no lib-dynload here")
    checked = 0
    for path in modules:
        out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True).stdout
        versions = {tuple(int(x) for x in m) for m in re.findall(r"\(GLIBC_(\d+)\.(\d+)", out)}
        info = elf.read(Path(path).read_bytes())
        assert info.machine == os.uname().machine.replace("arm64", "aarch64")
        assert info.glibc == (max(versions) if versions else None), path
        checked += 1
    assert checked > 20


def test_non_elf_and_damaged_files_are_named_not_trusted() -> None:
    with pytest.raises(elf.NotElf, match="macOS"):
        elf.read(b"\xcf\xfa\xed\xfe" + b"\0" * 100)
    with pytest.raises(elf.NotElf, match="not an ELF file"):
        elf.read(b"#!/bin/sh\n" * 10)
    real = Path(_dynload()[0]).read_bytes() if _dynload() else None
    if real is not None:
        # Cut short: the section table lies beyond the end.
        with pytest.raises(elf.NotElf, match="truncated"):
            elf.read(real[:200])


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=400))
def test_the_elf_reader_never_crashes_on_garbage(data: bytes) -> None:
    for blob in (data, b"\x7fELF\x02\x01\x01" + data):
        try:
            elf.read(blob)
        except elf.NotElf:
            pass


def test_the_table_says_where_it_comes_from() -> None:
    r = runtimes.lookup("python3.12")
    assert r.source.startswith("https://docs.aws.amazon.com/lambda/") and "as of" in r.source
    assert (r.os, r.glibc) == ("Amazon Linux 2023", (2, 34))
    assert runtimes.lookup("python3.11").glibc == (2, 26)
    with pytest.raises(DriftGuardError, match="not a Lambda Python runtime"):
        runtimes.lookup("nodejs20.x")


@pytest.mark.parametrize(("action", "day", "blocked"), [
    ("create", "2028-11-29", False), ("create", "2028-11-30", True),
    ("update", "2029-01-09", False), ("update", "2029-01-10", True),
    ("package", "2029-01-09", False), ("package", "2029-01-10", True),
])
def test_block_dates_on_both_sides(action: str, day: str, blocked: bool) -> None:
    v = runtimes.verdict(runtimes.lookup("python3.12"), datetime.date.fromisoformat(day), action)
    assert v is not None
    assert v.blocked is blocked
