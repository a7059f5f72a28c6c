"""The command line read without argparse (the hook's path) means what argparse makes of it."""

from __future__ import annotations

import argparse
from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift_guard import command
from drift_guard.errors import DriftGuardError


def _argparse(argv: List[str]) -> dict:
    return vars(command.build_parser().parse_args(argv))


def test_the_table_is_the_parsers_options() -> None:
    """Every option argparse knows is in the fast path's table, with its kind and default."""
    seen = {}
    for action in command.build_parser()._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        if not action.option_strings:
            assert action.dest == "files"
            continue
        for option in action.option_strings:
            if isinstance(action, argparse._StoreTrueAction):
                kind = command._FLAGS
            elif isinstance(action, argparse._AppendAction):
                kind = command._APPENDS
            else:
                assert type(action) is argparse._StoreAction, action
                kind = command._VALUES
            assert kind.get(option) == action.dest, option
            seen[option] = action.dest
        fallback = False if isinstance(action, argparse._StoreTrueAction) else None
        assert command._DEFAULTS.get(action.dest, fallback) == action.default
        if action.choices is not None:
            assert tuple(action.choices) == command.FORMATS
    assert set(seen) == {*command._FLAGS, *command._VALUES, *command._APPENDS}


@pytest.mark.parametrize("argv", [
    [],
    ["requirements.txt"],
    ["--quiet"],
    ["-q", "requirements.txt", "requirements-dev.txt"],
    ["--no-cache", "--quiet", "--python", "/v/bin/python", "clean.txt"],
    ["--format", "github", "--ignore", "pip,setuptools", "--ignore=wheel", "poetry.lock"],
    ["--format=json", "--venv", ".venv", "--with", "dev", "--without", "docs", "uv.lock"],
    ["a.txt", "b.txt", "--exit-zero", "--require-pins"],
    ["--fix", "--allow-broken", "--top-level", "requirements.in"],
    ["--diff", "--only", "main", "--extras", "s3", "--unresolved"],
    ["--python=", "x"],
    ["--ignore", "a b", "c"],
])
def test_usual_command_lines_are_read_without_argparse(argv: List[str]) -> None:
    fast = command._parse_fast(argv)
    assert fast is not None
    assert vars(fast) == _argparse(argv)


@pytest.mark.parametrize("argv", [
    ["--help"], ["-h"], ["--version"], ["--quie"], ["--form", "json"], ["--", "-x.txt"],
    ["-"], ["-qq"], ["--python"], ["--python", "-x"], ["--format", "yaml"],
    ["--python", "p", "--venv", "v"], ["a", "--quiet", "b"], ["--quiet=yes"], ["-q=1"],
    ["--ignore"], ["-x"],
])
def test_anything_else_is_left_to_argparse(argv: List[str]) -> None:
    assert command._parse_fast(argv) is None


_TOKENS = st.sampled_from([
    "--fix", "--diff", "--allow-broken", "--require-pins", "--unresolved", "-q", "--quiet",
    "--exit-zero", "--no-cache", "--python", "--venv", "--format", "--ignore", "--top-level",
    "--with", "--without", "--only", "--extras", "--format=json", "--format=bogus",
    "--python=p", "--ignore=a,b", "--qu", "-h", "--", "-", "-1", "-x y",
    "json", "text", "github", "markdown", "a.txt", "b.lock", "", "dev", "x=y", "-q=1",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_TOKENS, max_size=8))
def test_whatever_the_fast_path_reads_argparse_reads_the_same(argv: List[str]) -> None:
    fast = command._parse_fast(argv)
    if fast is None:
        return
    try:
        expected = _argparse(argv)
    except (DriftGuardError, SystemExit) as exc:  # pragma: no cover - a failure to report
        pytest.fail(f"the fast path read {argv!r}, which argparse refuses: {exc}")
    assert vars(fast) == expected, argv
