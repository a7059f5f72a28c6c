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


# ----------------------------------------------------- what packaging cannot evaluate

import pytest  # noqa: E402

from drift_guard.errors import DriftGuardError  # noqa: E402
from drift_guard.markers import MarkerError, check  # noqa: E402

TARGET = target_environment(Environment("/v", None, "3.11.7", "--venv", ()))


@pytest.mark.parametrize(("marker", "words"), [
    ("python_version ~= '3'", "cannot evaluate"),
    ("python_version < '" + "1" * 5000 + "'", "more than 4300 digits"),
    ("python_full_version > '1." + "2" * 4301 + "'", "more than 4300 digits"),
    ("(" * 1000 + "os_name == 'x'" + ")" * 1000, "invalid marker"),
    ("python_version >> '3'", "invalid marker"),
    ("extra === 'x'", "cannot evaluate"),
])
def test_markers_packaging_raises_on_are_bad_input_naming_the_place(marker: str,
                                                                    words: str) -> None:
    with pytest.raises(DriftGuardError) as info:
        check(marker, TARGET, path="requirements.txt", line=3)
    assert str(info.value).startswith("requirements.txt:3: ")
    assert words in info.value.message and len(str(info.value)) < 300
    with pytest.raises(MarkerError):  # and never anything but DriftGuardError later on
        evaluate(marker, TARGET)


def test_a_marker_from_outside_the_project_is_not_quoted() -> None:
    with pytest.raises(DriftGuardError) as info:
        check("os_name ~= 'hunter2'", TARGET, path="/etc/x", line=1, quote=False)
    assert "hunter2" not in str(info.value)


def test_a_variable_the_environment_lacks_is_not_the_markers_fault() -> None:
    check("platform_machine == 'x86_64'", {"python_version": "3.11"}, path="f", line=1)
    check("platform_release ~= '5.1'", {"platform_release": "6.1.0-generic"}, path="f", line=1)


def test_check_accepts_what_evaluates() -> None:
    for marker in ["python_version >= '3.8' and os_name == 'posix'", "'linux' in sys_platform",
                   "python_full_version === '3.11.7'", "extra == 'x'"]:
        check(marker, TARGET, path="f", key="project.dependencies[0]")


def test_answers_are_kept_per_environment_and_extra_never_across_them() -> None:
    env = dict(TARGET, python_version="3.11")
    assert evaluate("python_version >= '3.10'", env)
    assert not evaluate("python_version >= '3.10'", dict(env, python_version="3.9"))
    env["python_version"] = "3.8"  # the same object, changed since: not the old answer
    assert not evaluate("python_version >= '3.10'", env)
    assert evaluate("extra == 'x'", env, "x") and not evaluate("extra == 'x'", env)
    with pytest.raises(MarkerError):  # an error is never kept as an answer
        evaluate("extra === 'x'", env)
    with pytest.raises(MarkerError):
        evaluate("extra === 'x'", env)
