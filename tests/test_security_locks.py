"""Lock files are input nobody reviewed: every way one can be hostile or broken is one line
naming the file (and the key), exit 2, and never a traceback, a hang or a quote of content
from outside the project."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Union

import pytest

from drift_guard.errors import DriftGuardError
from drift_guard.markers import target_environment
from drift_guard.models import Environment, ReadContext
from drift_guard.readers import read_source
from tests.helpers import run_cli

LOCKS = ("uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml")


def ctx() -> ReadContext:
    env = target_environment(Environment("/venv", None, "3.11.7", "--venv", ()))
    return ReadContext(markers=env)


def error(path: Path) -> DriftGuardError:
    with pytest.raises(DriftGuardError) as info:
        read_source(str(path), ctx())
    assert "\n" not in str(info.value)
    return info.value


def one_entry(lock: str, name: str) -> Union[str, bytes]:
    """A lock of `lock`'s format whose one package is called `name`."""
    quoted = json.dumps(name)
    if lock == "uv.lock":
        return f'version = 1\n[[package]]\nname = {quoted}\nversion = "1"\n'
    if lock == "poetry.lock":
        return (f'[[package]]\nname = {quoted}\nversion = "1"\ngroups = ["main"]\n\n'
                '[metadata]\nlock-version = "2.1"\n')
    if lock == "pylock.toml":
        return f'lock-version = "1.0"\n[[packages]]\nname = {quoted}\nversion = "1"\n'
    return json.dumps({"_meta": {"pipfile-spec": 6}, "default": {name: {"version": "==1"}}})


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("name", ["a\nb", "a::b", "-e", "a b", "", "x" * 300 + "!", "a;b", "../x"])
def test_a_name_that_is_not_a_pep_508_name_is_bad_input(tmp_path: Path, lock: str,
                                                        name: str) -> None:
    path = tmp_path / lock
    path.write_text(one_entry(lock, name))
    err = error(path)
    assert err.key is not None and ("name" in err.key or err.key.startswith("default"))
    assert "not a valid package name" in err.message
    assert len(str(err)) < 300


NESTED = {
    "uv.lock": "version = 1\nx = " + "[" * 50000 + "]" * 50000 + "\n",
    "poetry.lock": "x = " + "{a = " * 50000 + "1" + "}" * 50000 + "\n",
    "pylock.toml": "x = " + "[" * 50000 + "]" * 50000 + "\n",
    "Pipfile.lock": "[" * 50000 + "]" * 50000,
}
HUGE = {
    "uv.lock": "version = " + "9" * 20000 + "\n",
    "poetry.lock": "[metadata]\nx = " + "9" * 20000 + "\n",
    "pylock.toml": "x = " + "9" * 20000 + "\n",
    "Pipfile.lock": '{"_meta": {"pipfile-spec": ' + "9" * 20000 + "}}",
}


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize(("cases", "words"), [(NESTED, "nested too deeply"),
                                              (HUGE, "too large")])
def test_deep_nesting_and_huge_numbers_are_one_line(tmp_path: Path, lock: str, cases: dict,
                                                    words: str) -> None:
    path = tmp_path / lock
    path.write_text(cases[lock])
    assert words in error(path).message


@pytest.mark.parametrize("lock", LOCKS)
def test_a_number_where_an_integer_version_is_read(tmp_path: Path, lock: str) -> None:
    path = tmp_path / lock
    path.write_text({"uv.lock": "version = 1e999\n", "poetry.lock": "[metadata]\n"
                     "lock-version = 1e999\n", "pylock.toml": "lock-version = inf\n",
                     "Pipfile.lock": '{"_meta": {"pipfile-spec": 1e999999}}'}[lock])
    err = error(path)
    assert err.key is not None and ("version" in err.key or "spec" in err.key)


@pytest.mark.parametrize("lock", LOCKS)
def test_bytes_that_are_not_utf_8_name_the_line_not_the_bytes(tmp_path: Path,
                                                              lock: str) -> None:
    path = tmp_path / lock
    path.write_bytes(b"\n\n# secret \xff\xfe sk-live-123\n")
    err = error(path)
    assert err.line == 3 and "UTF-8" in err.message
    assert "sk-live" not in str(err)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _environ(path: Path) -> None:
    path.symlink_to("/proc/self/environ")


def _directory(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("make", [_fifo, _dev_zero, _environ], ids=["fifo", "dev-zero",
                                                                   "proc-environ"])
def test_special_files_are_refused_without_reading_them(
        tmp_path: Path, lock: str, make: Callable[[Path], None]) -> None:
    path = tmp_path / lock
    make(path)
    err = error(path)
    assert err.path == str(path)
    assert "regular file" in err.message


@pytest.mark.parametrize("lock", LOCKS)
def test_an_oversized_lock_is_refused_before_it_is_read(tmp_path: Path, lock: str) -> None:
    from drift_guard import _io

    path = tmp_path / lock
    with open(path, "wb") as f:  # sparse: no disk used, nothing to read in time
        f.truncate(_io.DECLARATION_LIMIT + 1)
    err = error(path)
    assert "limit" in err.message and err.path == str(path)


@pytest.mark.parametrize("lock", LOCKS)
def test_the_cli_exits_2_with_one_line_for_a_hostile_lock(tmp_path: Path, lock: str) -> None:
    (tmp_path / lock).write_text(one_entry(lock, "evil\nname"))
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    (venv / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    result = run_cli([str(tmp_path / lock), "--venv", str(venv)], cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a valid package name" in lines[0]
    assert "Traceback" not in result.stderr
