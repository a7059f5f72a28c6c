"""The marker environment is the target's, derived without running it."""

from __future__ import annotations

import platform
import sys

from packaging.markers import default_environment

from drift_guard.markers import evaluate, target_environment
from drift_guard.models import Environment


def test_derived_environment_equals_packagings_for_the_running_interpreter() -> None:
    here = Environment(sys.prefix, sys.executable, platform.python_version(), "--python", (),
                       implementation=sys.implementation.name)
    assert target_environment(here) == default_environment()


def test_python_version_comes_from_the_target() -> None:
    env = Environment("/v", None, "3.9.18", "--venv", ())
    markers = target_environment(env)
    assert (markers["python_version"], markers["python_full_version"]) == ("3.9", "3.9.18")
    assert evaluate("python_version < '3.11'", markers)
    assert not evaluate("python_version >= '3.10'", markers)


def test_markers_queried_from_an_interpreter_are_used_as_they_are() -> None:
    given = {"python_version": "3.13", "sys_platform": "linux"}
    env = Environment("/v", None, "3.13.0", "--python", (), markers=given)
    assert target_environment(env) == given


def test_extra_markers_are_evaluated_with_the_extra_given() -> None:
    markers = target_environment(Environment("/v", None, "3.11.7", "--venv", ()))
    assert evaluate('extra == "socks"', markers, extra="socks")
    assert not evaluate('extra == "socks"', markers)
    assert evaluate(None, markers)
