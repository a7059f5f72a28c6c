"""Attacks on environment discovery and on reading an environment, run as a user would run
drift-guard: a subprocess under a timeout and a memory cap (`resource.setrlimit` in the
child). Nothing the checked repository contains may run (a marker file proves it), nothing
may hang or grow, bad input is one line and exit 2, and a part of the environment that cannot
be read is a warning naming it while the rest is still listed.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Dict, Iterator, Mapping, Optional, Sequence

import pytest

from tests.helpers import ROOT, make_venv, pip, write_wheel

SECRET = "hunter2-s3cr3t-value"
MEMORY_CAP = 1024 * 1024 * 1024
TIMEOUT = 120
TOOLS_BIN = os.path.dirname(sys.executable)  # the test venv: real poetry, pipenv


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def base_env(home: Path, path: Sequence[str] = ()) -> Dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": os.pathsep.join([*path, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
        "API_TOKEN": SECRET,
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }


def run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """drift-guard in a child process with a memory cap, killed (and failed) on timeout."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "drift_guard", *args], cwd=cwd, env=dict(env),
            capture_output=True, text=True, timeout=timeout, preexec_fn=_limits,
            errors="backslashreplace",
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"drift-guard {list(args)} did not finish within {timeout}s")


def run_code(code: str, cwd: Path, env: Mapping[str, str],
             drop_to: Optional[int] = None) -> subprocess.CompletedProcess[str]:
    """Python code in a child under the same caps; `drop_to`: the uid (and gid) it runs as
    after importing what it needs (root reads every file, whatever its mode)."""
    prelude = textwrap.dedent("""
        import json, os, sys
        import drift_guard.cli, drift_guard.pipeline, drift_guard.environment
        import drift_guard.installed, drift_guard.compare, drift_guard.markers, drift_guard.advice
        import drift_guard.readers.requirements, drift_guard.readers.pyproject
        import drift_guard.render.text, drift_guard.render.json, drift_guard.render
        import drift_guard.config, drift_guard._io, drift_guard.models, drift_guard.fix
        import packaging.version, packaging.specifiers, packaging.markers
        import packaging.requirements, shlex, pathlib, tempfile, signal, subprocess, shutil
        import encodings.idna, stat, email, argparse, locale, io, codecs, hashlib
        try:
            import tomllib
        except ImportError:
            import tomli
        DROP = %r
        if DROP is not None:
            os.setgroups([])
            os.setgid(DROP)
            os.setuid(DROP)
    """) % (drop_to,)
    try:
        return subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=cwd, env=dict(env),
            capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limits,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {TIMEOUT}s")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("drift-guard: error: "), result.stderr
    assert SECRET not in result.stdout + result.stderr
    return lines[0]


def fake_venv(path: Path, version: str = "3.11.7") -> Path:
    (path / "lib" / f"python{version[:4]}" / "site-packages").mkdir(parents=True)
    (path / "bin").mkdir(exist_ok=True)
    (path / "pyvenv.cfg").write_text(f"home = /nowhere/bin\nversion = {version}\n")
    return path


def site_of(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def dist(site: Path, name: str, version: str) -> Path:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return info


def marker_program(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho ran >> '{marker}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Path]:
    """A directory every user can enter (tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="dg-sec-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def can_drop_privileges() -> bool:
    return hasattr(os, "setuid") and os.geteuid() == 0


NOBODY = 65534


# --- the repository names a program -------------------------------------------------------


def test_configured_python_that_is_a_script_is_never_run(tmp_path: Path) -> None:
    project = tmp_path / "project"
    marker = tmp_path / "marker"
    marker_program(project / "tools" / "python", marker)
    (project / "pyproject.toml").write_text('[tool.drift-guard]\npython = "tools/python"\n')
    (project / "requirements.txt").write_text("")
    result = run([], project, base_env(tmp_path))
    line = one_line_error(result)
    assert "tools/python" in line and "--python" in line
    assert not marker.exists()
    # From a subdirectory: the same project, the same refusal.
    (project / "src").mkdir()
    one_line_error(run([], project / "src", base_env(tmp_path)))
    assert not marker.exists()
    # The user's own --python is their choice, and is what the message points to.
    result = run(["--venv", str(fake_venv(tmp_path / "v"))], project, base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_configured_interpreter_of_a_venv_is_read_never_run(tmp_path: Path) -> None:
    project = tmp_path / "project"
    marker = tmp_path / "marker"
    venv = fake_venv(project / "tools")
    marker_program(venv / "bin" / "python", marker)
    dist(site_of(venv), "acme", "1.0")
    (project / "pyproject.toml").write_text('[tool.drift-guard]\npython = "tools/bin/python"\n')
    (project / "requirements.txt").write_text("acme==1.0\n")
    result = run([], project, base_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "found by [tool.drift-guard]" in result.stdout
    assert not marker.exists()


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.isfile(os.path.join(TOOLS_BIN, "poetry")), reason="needs poetry")
def test_poetry_probe_does_not_load_the_repositorys_plugins(tmp_path: Path) -> None:
    project = tmp_path / "project"
    plugins = project / ".poetry" / "plugins"
    plugins.mkdir(parents=True)
    marker = tmp_path / "marker"
    (plugins / "x.pth").write_text(f"import os; open({str(marker)!r}, 'w').write('ran')\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = []\n\n[tool.poetry]\npackage-mode = false\n'
    )
    (project / "poetry.lock").write_text("")
    env = base_env(tmp_path / "home", [TOOLS_BIN])
    (tmp_path / "home").mkdir()

    result = run([], project, env)
    line = one_line_error(result)
    assert "poetry (" in line
    assert not marker.exists(), "drift-guard let poetry run the repository's .pth"

    # The attack is real: the same poetry without --no-plugins runs it.
    subprocess.run([os.path.join(TOOLS_BIN, "poetry"), "env", "info", "--path"], cwd=project,
                   env={k: v for k, v in env.items() if k != "PYTHONPATH"},
                   capture_output=True, timeout=TIMEOUT)
    assert marker.exists()


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.isfile(os.path.join(TOOLS_BIN, "pipenv")), reason="needs pipenv")
def test_pipenv_probe_does_not_load_the_repositorys_dotenv(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pipfile").write_text("[packages]\n")
    (project / "requirements.txt").write_text("")
    evil = tmp_path / "evil"
    make_venv(evil / "evil", with_pip=False)
    # The repository's .env would point pipenv at an environment of the attacker's choice.
    (project / ".env").write_text(f"WORKON_HOME={evil}\nPIPENV_CUSTOM_VENV_NAME=evil\n")
    env = base_env(tmp_path / "home", [TOOLS_BIN])
    (tmp_path / "home").mkdir()

    result = run([], project, env)
    line = one_line_error(result)
    assert "pipenv (no env for this project)" in line
    assert str(evil) not in result.stdout + result.stderr

    control = subprocess.run([os.path.join(TOOLS_BIN, "pipenv"), "--venv"], cwd=project,
                             env={k: v for k, v in env.items() if k != "PYTHONPATH"},
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert str(evil / "evil") in control.stdout  # what loading .env would have done


# --- special files in place of the environment's files ------------------------------------


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/proc/self/environ", "loop"])
def test_pyvenv_cfg_that_is_no_regular_file_is_one_line_and_exit_2(
    tmp_path: Path, target: str
) -> None:
    project = tmp_path / "project"
    venv = fake_venv(project / ".venv")
    (project / "requirements.txt").write_text("")
    cfg = venv / "pyvenv.cfg"
    cfg.unlink()
    if target == "fifo":
        os.mkfifo(cfg)
    elif target == "loop":
        cfg.symlink_to(cfg)
    else:
        cfg.symlink_to(target)
    line = one_line_error(run([], project, base_env(tmp_path)))
    assert "pyvenv.cfg" in line


@pytest.mark.parametrize("where", ["METADATA", "pth", "direct_url.json", "egg-link"])
@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/proc/self/environ"])
def test_special_files_in_site_packages_are_warnings_and_hide_nothing(
    tmp_path: Path, where: str, target: str
) -> None:
    project = tmp_path / "project"
    venv = fake_venv(project / ".venv")
    site = site_of(venv)
    dist(site, "alpha", "1.0")
    dist(site, "omega", "2.0")
    (project / "requirements.txt").write_text("alpha==1.0\nomega==2.0\n")
    if where == "METADATA":
        bad = site / "evil-6.6.dist-info" / "METADATA"
        bad.parent.mkdir()
    elif where == "pth":
        bad = site / "evil.pth"
    elif where == "direct_url.json":
        bad = dist(site, "beta", "3.0") / "direct_url.json"
        (project / "requirements.txt").write_text("alpha==1.0\nomega==2.0\nbeta==3.0\n")
    else:
        bad = site / "evil.egg-link"
    if target == "fifo":
        os.mkfifo(bad)
    else:
        bad.symlink_to(target)

    result = run(["--format", "json"], project, base_env(tmp_path))
    assert result.returncode in (0, 1), result.stderr
    assert SECRET not in result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert not [f for f in doc["findings"] if f["kind"] == "missing"], doc

    checked = run_code(f"""
        from drift_guard.config import Config
        from drift_guard.pipeline import check
        report, installed = check(Config(), cwd={str(project)!r})
        print(json.dumps({{"warnings": list(report.warnings), "installed": sorted(installed)}}))
    """, project, base_env(tmp_path))
    assert checked.returncode == 0, checked.stderr
    data = json.loads(checked.stdout)
    assert {"alpha", "omega"} <= set(data["installed"])
    assert len(data["warnings"]) == 1, data
    assert str(bad) in data["warnings"][0]
    assert SECRET not in checked.stdout


def test_a_venv_with_no_lib_is_a_warning_not_everything_missing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    venv = fake_venv(project / ".venv")
    shutil.rmtree(venv / "lib")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    checked = run_code(f"""
        from drift_guard.config import Config
        from drift_guard.pipeline import check
        report, installed = check(Config(), cwd={str(project)!r})
        print(json.dumps(list(report.warnings)))
    """, project, base_env(tmp_path))
    assert checked.returncode == 0, checked.stderr
    (warning,) = json.loads(checked.stdout)
    assert str(venv) in warning and "site-packages" in warning


# --- what an unprivileged user cannot read --------------------------------------------------


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root to drop to another user")
@pytest.mark.parametrize("what", ["site-packages", "dist-info", "loop", "lib"])
def test_unreadable_parts_of_site_packages_are_warnings_naming_them(world: Path, what: str) -> None:
    project = world / "project"
    venv = fake_venv(project / ".venv")
    site = site_of(venv)
    dist(site, "alpha", "1.0")
    dist(site, "omega", "2.0")
    (project / "requirements.txt").write_text("alpha==1.0\nomega==2.0\n")
    for root, dirs, files in os.walk(world):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    if what == "site-packages":
        bad = site
        site.chmod(0)
    elif what == "dist-info":
        bad = dist(site, "hidden", "1.0")
        bad.chmod(0)
    elif what == "loop":
        bad = site / "loop-1.0.dist-info"
        bad.symlink_to(bad)
    else:
        (venv / "lib").chmod(0)
        bad = venv  # "no site-packages directory": the venv is named
    checked = run_code(f"""
        from drift_guard.config import Config
        from drift_guard.pipeline import check
        report, installed = check(Config(), cwd={str(project)!r})
        print(json.dumps({{"warnings": list(report.warnings), "installed": sorted(installed)}}))
    """, project, base_env(world), drop_to=NOBODY)
    assert checked.returncode == 0, checked.stderr
    data = json.loads(checked.stdout)
    assert len(data["warnings"]) == 1, data
    assert str(bad) in data["warnings"][0], data
    if what in ("dist-info", "loop"):
        assert data["installed"] == ["alpha", "omega"]  # the neighbours are still listed


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root to drop to another user")
def test_unreadable_pyproject_toml_is_one_line_and_exit_2(world: Path) -> None:
    project = world / "project"
    project.mkdir()
    fake_venv(project / ".venv")
    (project / "requirements.txt").write_text("")
    (project / "pyproject.toml").write_text('[tool.drift-guard]\nignore = ["x"]\n')
    for root, dirs, files in os.walk(world):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    (project / "pyproject.toml").chmod(0)
    checked = run_code("""
        code = drift_guard.cli.main([])
        print("exit", code)
    """, project, base_env(world), drop_to=NOBODY)
    assert checked.stdout.splitlines()[-1] == "exit 2", checked.stdout + checked.stderr
    (line,) = checked.stderr.splitlines()
    assert "pyproject.toml" in line and "Permission denied" in line


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/proc/self/environ"])
def test_pyproject_toml_that_is_no_regular_file_is_one_line_and_exit_2(
    tmp_path: Path, target: str
) -> None:
    project = tmp_path / "project"
    fake_venv(project / ".venv")
    (project / "requirements.txt").write_text("")
    if target == "fifo":
        os.mkfifo(project / "pyproject.toml")
    else:
        (project / "pyproject.toml").symlink_to(target)
    line = one_line_error(run([], project, base_env(tmp_path)))
    assert "pyproject.toml" in line
    # Found on the way up from a subdirectory: the same answer, no hang.
    (project / "sub").mkdir()
    (project / "requirements.txt").unlink()
    one_line_error(run([], project / "sub", base_env(tmp_path)))


def test_a_file_name_that_is_not_utf8_is_one_line_and_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "project"
    fake_venv(project / ".venv")
    (project / "requirements.txt").write_text("")
    env = base_env(tmp_path)
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"drift_guard", b"caf\xe9\xff.txt"], cwd=project,
        env=env, capture_output=True, timeout=TIMEOUT, preexec_fn=_limits,
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


# --- drift-guard's own environment ----------------------------------------------------------


@pytest.mark.e2e
def test_own_venv_on_path_or_activated_is_never_the_one_checked(tmp_path: Path) -> None:
    """drift-guard installed in a venv of its own (here: the test venv) whose bin is on PATH,
    and a project with its own .venv: the project's .venv is checked."""
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "acme", "1.0")
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    venv = make_venv(project / ".venv", with_pip=False)
    pip(venv, "install", "acme==1.0", find_links=wheels)
    (project / "requirements.txt").write_text("acme==1.0\n")
    own = os.path.dirname(sys.executable)
    env = base_env(tmp_path, [own])
    env.pop("PYTHONPATH")  # drift-guard as installed in its own venv

    for extra in ({}, {"VIRTUAL_ENV": sys.prefix}):
        result = subprocess.run(
            [os.path.join(own, "drift-guard")], cwd=project, env={**env, **extra},
            capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limits,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "found by ./.venv" in result.stdout, result.stdout
        # ... also from a subdirectory.
        (project / "src" / "pkg").mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [os.path.join(own, "drift-guard")], cwd=project / "src" / "pkg",
            env={**env, **extra}, capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "found by ./.venv" in result.stdout, result.stdout
