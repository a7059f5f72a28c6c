"""find_environment(): each discovery step, with an explicit environ and cwd; environment_at():
what pyvenv.cfg and the directory layout say, without running the interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, Optional

import pytest

from drift_guard.environment import environment_at, find_environment
from drift_guard.errors import DriftGuardError
from tests.helpers import ROOT, make_venv

PY312 = os.path.expanduser("~/.pyenv/versions/3.12.1/bin/python3.12")


def fake_venv(path: Path, cfg: str = "version = 3.12.1\n", lib: str = "python3.12") -> Path:
    """A venv as the files say it is: pyvenv.cfg, bin/python, site-packages (nothing runs)."""
    (path / "lib" / lib / "site-packages").mkdir(parents=True)
    (path / "bin").mkdir()
    (path / "bin" / "python").write_text("")
    (path / "pyvenv.cfg").write_text(
        "home = /nowhere/bin\ninclude-system-site-packages = false\n" + cfg
    )
    return path


def site(path: Path, lib: str = "python3.12") -> str:
    return str(path / "lib" / lib / "site-packages")


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything starts a process (the default mode must not run the target)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture
def own_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """drift-guard running from a pre-commit `language: python` hook env."""
    hook = fake_venv(tmp_path / "store" / "repo1234" / "py_env-python3.11")
    monkeypatch.setattr(sys, "prefix", str(hook))
    return hook


# --- pyvenv.cfg and the layout -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("version = 3.12.1", "3.12.1"),  # venv
        ("version_info = 3.12.1.final.0", "3.12.1"),  # virtualenv
        ("version_info = 3.12.1", "3.12.1"),  # uv
        ("version_info = 3.13.0.candidate.1", "3.13.0rc1"),
        ("Version = 3.9.18", "3.9.18"),
    ],
)
def test_python_version_is_read_from_pyvenv_cfg(
    tmp_path: Path, line: str, expected: str, no_processes: None
) -> None:
    env = environment_at(str(fake_venv(tmp_path / "v", line + "\n")), "--venv")
    assert env.python_version == expected
    assert (env.implementation, env.markers) == ("cpython", None)
    assert env.paths == (site(tmp_path / "v"),)
    assert env.python == str(tmp_path / "v" / "bin" / "python")
    assert (env.prefix, env.found_by) == (str(tmp_path / "v"), "--venv")


@pytest.mark.skipif(not os.path.isfile(PY312), reason="needs ~/.pyenv/versions/3.12.1")
def test_real_venv_of_another_python_is_read_without_running_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(tmp_path / "venv", python=PY312, with_pip=False)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a process"))
    env = environment_at(str(venv.path), "--venv")
    assert env.python_version == "3.12.1"
    assert env.paths == (str(venv.site_packages()),)


def test_pypy_free_threaded_and_windows_layouts(tmp_path: Path) -> None:
    pypy = fake_venv(tmp_path / "pypy", "implementation = PyPy\nversion_info = 3.10.14.final.0\n",
                     lib="pypy3.10")
    env = environment_at(str(pypy), "--venv")
    assert (env.implementation, env.python_version, env.paths) == (
        "pypy", "3.10.14", (site(pypy, "pypy3.10"),),
    )
    ft = fake_venv(tmp_path / "ft", "version = 3.13.0\n", lib="python3.13t")
    assert environment_at(str(ft), "--venv").paths == (site(ft, "python3.13t"),)

    win = tmp_path / "win"
    (win / "Lib" / "site-packages").mkdir(parents=True)
    (win / "Scripts").mkdir()
    (win / "Scripts" / "python.exe").write_text("")
    (win / "pyvenv.cfg").write_text("home = C:\\Python312\nversion = 3.12.1\n")
    env = environment_at(str(win), "--venv")
    # site.py on Windows adds the prefix itself, then Lib\site-packages.
    assert env.paths == (str(win), str(win / "Lib" / "site-packages"))
    assert env.python == str(win / "Scripts" / "python.exe")


def test_pth_files_add_existing_path_lines_and_skip_import_lines(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "v")
    sp = Path(site(venv))
    for name in ("rel", "abs", "second", "hidden"):
        (tmp_path / name).mkdir()
    (sp / "b.pth").write_text(
        f"# a comment\n\nimport sys; sys.path.append('{tmp_path / 'never'}')\n"
        f"../../../../rel\n{tmp_path / 'abs'}\n{tmp_path / 'missing'}\n{tmp_path / 'abs'}\n"
    )
    (sp / "a.pth").write_bytes(b"\xef\xbb\xbf" + str(tmp_path / "second").encode() + b"\r\n")
    (sp / ".hidden.pth").write_text(str(tmp_path / "hidden"))
    (sp / "not-a-pth.txt").write_text(str(tmp_path / "hidden"))
    env = environment_at(str(venv), "--venv")
    # sorted .pth order: a.pth before b.pth; a BOM is accepted; duplicates appear once.
    assert env.paths == tuple(
        str(p) for p in (sp, tmp_path / "second", tmp_path / "rel", tmp_path / "abs")
    )


def test_lib64_symlink_is_not_scanned_twice(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "v")
    (venv / "lib64").symlink_to("lib")
    assert environment_at(str(venv), "--venv").paths == (site(venv),)


def _own_sys_path(python: Path) -> list:  # type: ignore[type-arg]
    """sys.path of an interpreter minus the standard library: what pip scans for dists."""
    code = textwrap.dedent("""
        import json, os, sys, sysconfig
        std = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
        std |= {os.path.join(p, "lib-dynload") for p in std}
        own = [p for p in sys.path[1:] if os.path.isdir(p) and os.path.realpath(p) not in std]
        print(json.dumps(own))
    """)
    import json

    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return [os.path.realpath(p) for p in json.loads(out.stdout)]


@pytest.mark.parametrize("system_site", [False, True])
def test_paths_are_the_real_interpreters_sys_path(tmp_path: Path, system_site: bool) -> None:
    venv = make_venv(tmp_path / "venv", with_pip=False, system_site_packages=system_site)
    extra = tmp_path / "extra"
    extra.mkdir()
    (venv.site_packages() / "extra.pth").write_text(f"{extra}\n")
    env = environment_at(str(venv.path), "VIRTUAL_ENV")
    assert [os.path.realpath(p) for p in env.paths] == _own_sys_path(venv.python)
    assert env.paths[:2] == (str(venv.site_packages()), str(extra))
    assert (len(env.paths) > 2) is system_site  # the base interpreter's site-packages


def test_conda_prefix_version_and_user_site(tmp_path: Path) -> None:
    conda = tmp_path / "conda" / "envs" / "proj"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "conda-meta" / "python-dateutil-2.9.0-pyhd8ed1ab_0.json").write_text("{}")
    (conda / "conda-meta" / "python-3.12.4-h5148396_1.json").write_text("{}")
    (conda / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (conda / "bin").mkdir()
    (conda / "bin" / "python").write_text("")
    home = tmp_path / "home"
    user = home / ".local" / "lib" / "python3.12" / "site-packages"
    user.mkdir(parents=True)

    environ = {"CONDA_PREFIX": str(conda), "HOME": str(home)}
    env = find_environment(environ=environ, cwd=str(tmp_path))
    assert (env.found_by, env.prefix, env.python_version) == ("CONDA_PREFIX", str(conda), "3.12.4")
    # A base interpreter (not a venv) sees the user site first, as site.py orders it.
    assert env.paths == (str(user), site(conda))
    env = find_environment(environ=dict(environ, PYTHONNOUSERSITE="1"), cwd=str(tmp_path))
    assert env.paths == (site(conda),)


def test_base_prefix_version_from_patchlevel_h(tmp_path: Path) -> None:
    base = tmp_path / "opt" / "python"
    (base / "lib" / "python3.13" / "site-packages").mkdir(parents=True)
    (base / "include" / "python3.13").mkdir(parents=True)
    patchlevel = base / "include" / "python3.13" / "patchlevel.h"
    patchlevel.write_text('#define PY_VERSION "3.13.0rc2"\n')
    env = environment_at(str(base), "--venv", environ={})
    assert env.python_version == "3.13.0rc2"


# --- the discovery order -----------------------------------------------------------------


def test_explicit_python_and_venv_win_over_everything(tmp_path: Path) -> None:
    a, b, c = (fake_venv(tmp_path / n) for n in ("a", "b", "c"))
    fake_venv(tmp_path / ".venv")
    environ = {"DRIFT_GUARD_PYTHON": str(b / "bin" / "python"), "VIRTUAL_ENV": str(c)}
    env = find_environment(str(a / "bin" / "python"), cwd=str(tmp_path), environ=environ)
    assert (env.found_by, env.prefix, env.python) == ("--python", str(a), str(a / "bin" / "python"))
    env = find_environment(venv="a", cwd=str(tmp_path), environ=environ)
    assert (env.found_by, env.prefix) == ("--venv", str(a))
    env = find_environment(cwd=str(tmp_path), environ=environ)
    assert (env.found_by, env.prefix) == ("DRIFT_GUARD_PYTHON", str(b))
    with pytest.raises(DriftGuardError, match="both"):
        find_environment(str(a), str(b), cwd=str(tmp_path), environ={})


def test_virtual_env_then_conda_then_dot_venv_then_venv(tmp_path: Path) -> None:
    active, on_path, conda = (fake_venv(tmp_path / n) for n in ("active", "onpath", "conda"))
    project = tmp_path / "project"
    fake_venv(project / ".venv")
    fake_venv(project / "venv")
    environ: Dict[str, str] = {
        "VIRTUAL_ENV": str(active),
        # A venv's bin on PATH with nothing activated (a tools venv) never counts.
        "PATH": os.pathsep.join([str(on_path / "bin"), "/usr/bin", str(tmp_path / "nobin")]),
        "CONDA_PREFIX": str(conda),
    }
    steps = []
    for drop in ("VIRTUAL_ENV", "CONDA_PREFIX", ".venv", "venv"):
        env = find_environment(cwd=str(project), environ=environ)
        steps.append((env.found_by, env.prefix))
        if drop in environ:
            del environ[drop]
        else:
            os.rename(project / drop, project / f"gone{drop}")
    assert steps == [
        ("VIRTUAL_ENV", str(active)),
        ("CONDA_PREFIX", str(conda)),
        ("./.venv", str(project / ".venv")),
        ("./venv", str(project / "venv")),
    ]


def test_pre_commit_hook_env_is_skipped_and_the_activated_venv_found_on_path(
    tmp_path: Path, own_env: Path
) -> None:
    project_venv = fake_venv(tmp_path / "project" / ".venv")
    environ = {
        "PRE_COMMIT": "1",
        "VIRTUAL_ENV": str(own_env),
        "PATH": os.pathsep.join([str(own_env / "bin"), str(project_venv / "bin"), "/usr/bin"]),
    }
    env = find_environment(cwd=str(tmp_path), environ=environ)
    assert (env.found_by, env.prefix) == ("PATH", str(project_venv))
    # Not activated: only the hook env is on PATH; ./.venv in the repository root is found.
    environ["PATH"] = os.pathsep.join([str(own_env / "bin"), "/usr/bin"])
    env = find_environment(cwd=str(tmp_path / "project"), environ=environ)
    assert (env.found_by, env.prefix) == ("./.venv", str(project_venv))


def test_own_env_is_recognised_by_its_py_env_name_without_pre_commit_variable(
    tmp_path: Path, own_env: Path
) -> None:
    with pytest.raises(DriftGuardError) as caught:
        find_environment(cwd=str(tmp_path), environ={"VIRTUAL_ENV": str(own_env)})
    assert "drift-guard's own pre-commit env" in str(caught.value)


def test_own_env_in_the_pre_commit_store_is_skipped_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = fake_venv(tmp_path / "store" / "repo1234" / "some-env")
    monkeypatch.setattr(sys, "prefix", str(hook))
    environ = {"VIRTUAL_ENV": str(hook), "PRE_COMMIT": "1",
               "PRE_COMMIT_HOME": str(tmp_path / "store")}
    with pytest.raises(DriftGuardError, match="own pre-commit env"):
        find_environment(cwd=str(tmp_path), environ=environ)
    del environ["PRE_COMMIT"]  # not under pre-commit: an ordinary activated venv
    assert find_environment(cwd=str(tmp_path), environ=environ).found_by == "VIRTUAL_ENV"


def test_system_hook_checks_the_venv_it_runs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `language: system`: drift-guard is installed in the project venv, so VIRTUAL_ENV ==
    # sys.prefix -- and that venv is the one to check, PRE_COMMIT or not.
    project_venv = fake_venv(tmp_path / ".venv")
    monkeypatch.setattr(sys, "prefix", str(project_venv))
    environ = {"PRE_COMMIT": "1", "VIRTUAL_ENV": str(project_venv)}
    env = find_environment(cwd=str(tmp_path), environ=environ)
    assert (env.found_by, env.prefix) == ("VIRTUAL_ENV", str(project_venv))


def test_path_counts_only_right_behind_the_hook_env(tmp_path: Path, own_env: Path) -> None:
    (tmp_path / "plain" / "bin").mkdir(parents=True)
    win = tmp_path / "winvenv"
    (win / "Lib" / "site-packages").mkdir(parents=True)
    (win / "Scripts").mkdir()
    (win / "pyvenv.cfg").write_text("version = 3.12.1\n")
    tools = fake_venv(tmp_path / "tools")
    hook = str(own_env / "bin")
    base = {"VIRTUAL_ENV": str(own_env), "PRE_COMMIT": "1"}

    def found(*path: str) -> Optional[str]:
        environ = dict(base, PATH=os.pathsep.join(path), GIT_EXEC_PATH="/usr/lib/git-core")
        try:
            env = find_environment(cwd=str(tmp_path / "plain"), environ=environ)
        except DriftGuardError:
            return None
        assert env.found_by == "PATH"
        return env.prefix

    assert found(hook, "", str(win / "Scripts")) == str(win)
    # git commit: git puts its exec path between the hook env and the activated venv.
    assert found(hook, "/usr/lib/git-core", str(tools / "bin")) == str(tools)
    # A venv further down PATH is a tools venv, not an activated one.
    assert found(hook, str(tmp_path / "plain" / "bin"), str(win / "Scripts")) is None
    assert found(hook, "/usr/bin", str(tools / "bin")) is None
    assert found(str(tools / "bin"), hook, "/usr/bin") is None


@pytest.mark.e2e
def test_under_a_real_python_hook_env_the_project_venv_is_found(tmp_path: Path) -> None:
    """A real venv named like pre-commit's runs drift-guard, as a `language: python` hook."""
    hook = make_venv(tmp_path / "store" / "repoabc" / "py_env-python3", with_pip=False)
    project = tmp_path / "project"
    project.mkdir()
    project_venv = make_venv(project / ".venv", with_pip=False)
    code = (
        "from drift_guard.environment import find_environment; "
        "e = find_environment(); print(e.found_by, e.prefix, e.python_version)"
    )
    base_env = {"PYTHONPATH": str(ROOT), "PRE_COMMIT": "1", "VIRTUAL_ENV": str(hook.path)}
    for path, expected in (
        ([hook.bin, project_venv.bin], "PATH"),  # activated
        ([hook.bin], "./.venv"),  # not activated
    ):
        env = dict(base_env, PATH=os.pathsep.join([*map(str, path), "/usr/bin", "/bin"]))
        out = subprocess.run([str(hook.python), "-c", code], cwd=project, env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[:2] == [expected, str(project / ".venv")]


# --- --python ----------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.isfile(PY312), reason="needs ~/.pyenv/versions/3.12.1")
def test_python_outside_a_venv_is_queried_once(tmp_path: Path) -> None:
    env = find_environment(PY312, environ={}, cwd=str(tmp_path))
    base = os.path.realpath(os.path.dirname(os.path.dirname(PY312)))
    assert (env.found_by, env.python, env.python_version) == ("--python", PY312, "3.12.1")
    assert os.path.realpath(env.prefix) == base
    assert env.markers is not None
    assert env.markers["python_full_version"] == "3.12.1"
    assert env.markers["python_version"] == "3.12"
    assert env.markers["implementation_name"] == "cpython"
    site_packages = os.path.join(base, "lib", "python3.12", "site-packages")
    assert site_packages in map(os.path.realpath, env.paths)
    assert str(tmp_path) not in env.paths  # -I: the cwd is not on the path


def test_python_in_a_venv_is_not_run_and_keeps_the_symlink_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(tmp_path / "venv", with_pip=False)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a process"))
    env = find_environment("venv/bin/python", cwd=str(tmp_path), environ={})
    assert (env.prefix, env.python) == (str(venv.path), str(venv.python))
    assert env.python_version == ".".join(map(str, sys.version_info[:3]))
    # pip's --python also takes the environment's directory.
    assert find_environment("venv", cwd=str(tmp_path), environ={}).prefix == str(venv.path)


def test_python_by_bare_name_is_looked_up_on_path(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "v")
    (venv / "bin" / "python3.12").write_text("")
    (venv / "bin" / "python3.12").chmod(0o755)
    env = find_environment(environ={"DRIFT_GUARD_PYTHON": "python3.12",
                                    "PATH": str(venv / "bin")}, cwd=str(tmp_path / "v"))
    assert (env.found_by, env.prefix) == ("DRIFT_GUARD_PYTHON", str(venv))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "--python {p}: no such file"),
        ("garbage", "--python {p}: not a working Python interpreter (garbage)"),
        ("text", "--python {p}: cannot run it"),
    ],
)
def test_bad_python_is_named_in_the_error(
    tmp_path: Path, make: Optional[str], message: str
) -> None:
    path = tmp_path / "bin" / "python"
    path.parent.mkdir()
    if make == "garbage":
        path.write_text("#!/bin/sh\necho garbage >&2\nexit 3\n")
        path.chmod(0o755)
    elif make == "text":
        path.write_text("not a program\n")
    with pytest.raises(DriftGuardError) as caught:
        find_environment(str(path), environ={}, cwd=str(tmp_path))
    assert str(caught.value).startswith(message.format(p=path))
    assert "\n" not in str(caught.value)


def test_bad_venv_and_bad_variables_are_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    cases = [
        ({"venv": "missing"}, {}, "--venv missing: no such directory"),
        ({"venv": "file"}, {}, "--venv file: is a file"),
        ({"venv": "empty"}, {}, f"{tmp_path / 'empty'}: not a Python environment (from --venv"),
        ({}, {"VIRTUAL_ENV": str(tmp_path / "gone")}, f"VIRTUAL_ENV {tmp_path / 'gone'}: no such"),
        ({}, {"DRIFT_GUARD_PYTHON": "nopython"}, "DRIFT_GUARD_PYTHON nopython: no such file"),
    ]
    for kwargs, environ, message in cases:
        with pytest.raises(DriftGuardError) as caught:
            find_environment(cwd=str(tmp_path), environ=environ, **kwargs)  # type: ignore[arg-type]
        assert str(caught.value).startswith(message), str(caught.value)


def test_nothing_found_says_what_was_tried_and_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(DriftGuardError) as caught:
        find_environment(cwd=str(tmp_path), environ={"PATH": "/usr/bin"})
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("no project environment found (tried DRIFT_GUARD_PYTHON, VIRTUAL_ENV, ")
    for part in ("PATH", "CONDA_PREFIX", "./.venv", "./venv", "poetry", "pipenv",
                 "--python PATH", "--venv DIR"):
        assert part in text


# --- poetry and pipenv -------------------------------------------------------------------


def fake_tool(bindir: Path, name: str, prints: str, exit_code: int = 0) -> Path:
    """An executable on PATH that records how it was called and prints `prints`."""
    bindir.mkdir(exist_ok=True)
    log = bindir / f"{name}.log"
    script = bindir / name
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{log}"\n'
        f'echo "cwd=$PWD VIRTUAL_ENV=${{VIRTUAL_ENV-unset}} POETRY_ACTIVE=${{POETRY_ACTIVE-unset}} '
        f'PIPENV_ACTIVE=${{PIPENV_ACTIVE-unset}} API_TOKEN=${{API_TOKEN-unset}} '
        f'AWS_SECRET_ACCESS_KEY=${{AWS_SECRET_ACCESS_KEY-unset}} '
        f'PIPENV_DONT_LOAD_ENV=${{PIPENV_DONT_LOAD_ENV-unset}}" >> "{log}"\n'
        f'echo "Some notice"\necho "{prints}"\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return log


@pytest.mark.skipif(os.name == "nt", reason="the fake tools are shell scripts")
def test_poetry_is_asked_with_its_lock_present_and_without_virtual_env(
    tmp_path: Path, own_env: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    poetry_venv = fake_venv(tmp_path / "cache" / "virtualenvs" / "project-AbC-py3.12")
    log = fake_tool(tmp_path / "tools", "poetry", str(poetry_venv))
    environ = {"PATH": str(tmp_path / "tools"), "PRE_COMMIT": "1", "VIRTUAL_ENV": str(own_env),
               "POETRY_ACTIVE": "1", "PIPENV_ACTIVE": "1", "API_TOKEN": "s3cr3t",
               "AWS_SECRET_ACCESS_KEY": "s3cr3t"}

    with pytest.raises(DriftGuardError, match=r"poetry \(no poetry.lock\)"):
        find_environment(cwd=str(project), environ=environ)
    assert not log.exists()  # not asked without poetry.lock

    (project / "poetry.lock").write_text("")
    env = find_environment(cwd=str(project), environ=environ)
    assert (env.found_by, env.prefix) == ("poetry", str(poetry_venv))
    args, seen = log.read_text().splitlines()
    # Without plugins (Poetry 2 runs a project's .poetry/plugins/*.pth otherwise), no prompt,
    # and without anything secret of the caller's environment.
    assert args == "--no-plugins --no-interaction --no-ansi env info --path"
    assert seen == (f"cwd={project} VIRTUAL_ENV=unset POETRY_ACTIVE=unset PIPENV_ACTIVE=unset "
                    "API_TOKEN=unset AWS_SECRET_ACCESS_KEY=unset PIPENV_DONT_LOAD_ENV=1")


@pytest.mark.skipif(os.name == "nt", reason="the fake tools are shell scripts")
def test_pipenv_is_asked_when_poetry_fails_or_is_absent(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "poetry.lock").write_text("")
    (project / "Pipfile").write_text("")
    pipenv_venv = fake_venv(tmp_path / "virtualenvs" / "project-XyZ")
    environ = {"PATH": str(tmp_path / "tools")}

    pipenv_log = fake_tool(tmp_path / "tools", "pipenv", str(pipenv_venv))
    env = find_environment(cwd=str(project), environ=environ)  # poetry is not on PATH
    assert (env.found_by, env.prefix) == ("pipenv", str(pipenv_venv))
    assert pipenv_log.read_text().splitlines()[0] == "--venv"

    poetry_log = fake_tool(tmp_path / "tools", "poetry", "", exit_code=1)
    env = find_environment(cwd=str(project), environ=environ)
    assert poetry_log.exists()
    assert env.found_by == "pipenv"

    fake_tool(tmp_path / "tools", "pipenv", str(tmp_path / "does-not-exist"))
    with pytest.raises(DriftGuardError) as caught:
        find_environment(cwd=str(project), environ=environ)
    assert "poetry (no env for this project)" in str(caught.value)
    assert "pipenv (it named" in str(caught.value)


# --- files of the environment that cannot be read ------------------------------------------


@pytest.fixture
def deadline() -> object:
    """Fail instead of hanging: a FIFO opened for reading blocks until a writer comes."""
    import signal

    def expired(signum: int, frame: object) -> None:
        raise AssertionError("did not finish within 10 s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(10)
    yield None
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "proc-environ"])
def test_pyvenv_cfg_that_is_no_regular_file_is_bad_input(
    tmp_path: Path, kind: str, deadline: None
) -> None:
    venv = fake_venv(tmp_path / "v")
    cfg = venv / "pyvenv.cfg"
    cfg.unlink()
    if kind == "fifo":
        os.mkfifo(cfg)
    else:
        cfg.symlink_to("/dev/zero" if kind == "dev-zero" else "/proc/self/environ")
    for call in (lambda: environment_at(str(venv), "--venv"),
                 lambda: find_environment(cwd=str(tmp_path), venv="v", environ={})):
        with pytest.raises(DriftGuardError) as caught:
            call()
        assert str(cfg) in str(caught.value)
        assert "\n" not in str(caught.value)
    # ./.venv whose pyvenv.cfg is a FIFO is not passed over for another environment.
    os.rename(venv, tmp_path / ".venv")
    with pytest.raises(DriftGuardError, match="pyvenv.cfg"):
        find_environment(cwd=str(tmp_path), environ={})


def test_a_pth_file_that_cannot_be_read_is_a_warning(tmp_path: Path, deadline: None) -> None:
    venv = fake_venv(tmp_path / "v")
    sp = Path(site(venv))
    (tmp_path / "extra").mkdir()
    os.mkfifo(sp / "a.pth")
    (sp / "b.pth").symlink_to("/proc/self/environ")
    (sp / "c.pth").write_text(f"{tmp_path / 'extra'}\n")
    env = environment_at(str(venv), "--venv")
    assert env.paths == (str(sp), str(tmp_path / "extra"))
    assert len(env.warnings) == 2
    assert str(sp / "a.pth") in env.warnings[0] and "FIFO" in env.warnings[0]
    assert str(sp / "b.pth") in env.warnings[1] and "special" in env.warnings[1]


def test_a_venv_without_site_packages_is_a_warning_not_an_empty_environment(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "v"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /nowhere/bin\nversion = 3.12.1\n")
    env = environment_at(str(venv), "--venv")
    assert env.paths == ()
    assert len(env.warnings) == 1 and str(venv) in env.warnings[0]
    assert "site-packages" in env.warnings[0]


# --- what a run may execute ---------------------------------------------------------------


def marker_script(path: Path, marker: Path, sleep: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho ran \"$@\" >> '{marker}'\nsleep {sleep}\n"
                    "echo /nowhere\n")
    path.chmod(0o755)
    return path


def test_configured_python_outside_a_venv_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    marker_script(tmp_path / "tools" / "python", marker)
    with pytest.raises(DriftGuardError) as caught:
        find_environment("tools/python", cwd=str(tmp_path), environ={}, configured=True)
    text = str(caught.value)
    assert text.startswith("[tool.drift-guard] python = tools/python: not the interpreter of a "
                           "virtualenv")
    assert "--python PATH or DRIFT_GUARD_PYTHON" in text
    assert not marker.exists()


def test_configured_python_inside_a_venv_is_read_not_run(
    tmp_path: Path, no_processes: None
) -> None:
    marker = tmp_path / "marker"
    venv = fake_venv(tmp_path / "tools")
    marker_script(venv / "bin" / "python", marker)
    env = find_environment("tools/bin/python", cwd=str(tmp_path), environ={}, configured=True)
    assert (env.prefix, env.found_by, env.python_version) == (
        str(venv), "[tool.drift-guard]", "3.12.1")
    assert not marker.exists()


def test_a_base_interpreter_the_user_names_is_asked_under_S_and_I(tmp_path: Path) -> None:
    # A stand-in interpreter that records its arguments and environment, then answers.
    marker = tmp_path / "args"
    python = tmp_path / "base" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    answer = ('{"prefix": "/opt/py", "implementation": "cpython", "sites": [], "user": null, '
              '"markers": {"python_full_version": "3.12.1"}}')
    python.write_text(f"#!/bin/sh\necho \"$1 $2 $3\" > '{marker}'\necho \"TOKEN=${{API_TOKEN-unset}} "
                      f"PWD=$PWD\" >> '{marker}'\necho '{answer}'\n")
    python.chmod(0o755)
    env = find_environment(str(python), cwd=str(tmp_path),
                           environ={"API_TOKEN": "s3cr3t", "PATH": "/usr/bin"})
    assert (env.prefix, env.python_version, env.found_by) == ("/opt/py", "3.12.1", "--python")
    args, seen = marker.read_text().splitlines()
    assert args == "-S -I -c"
    assert "TOKEN=unset" in seen and str(tmp_path) not in seen


def test_a_tool_probe_that_hangs_is_stopped_with_everything_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deadline: None
) -> None:
    import drift_guard.environment as environment

    monkeypatch.setattr(environment, "_TOOL_TIMEOUT", 1.0)
    project = tmp_path / "project"
    project.mkdir()
    (project / "poetry.lock").write_text("")
    marker = tmp_path / "marker"
    # The sleep is a child of the script: it must not keep the run waiting on its pipes.
    marker_script(tmp_path / "tools" / "poetry", marker, sleep=30.4187)
    started = time.monotonic()
    with pytest.raises(DriftGuardError) as caught:
        find_environment(cwd=str(project),
                         environ={"PATH": os.pathsep.join([str(tmp_path / "tools"), "/usr/bin",
                                                           "/bin"])})
    assert time.monotonic() - started < 8
    assert "poetry (`poetry env info --path` gave no answer within 1s and was stopped)" in str(
        caught.value)
    assert marker.read_text().split()[:3] == ["ran", "--no-plugins", "--no-interaction"]
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 30.4187" not in out


# --- which environment is drift-guard's own ----------------------------------------------


def test_drift_guards_own_env_on_path_or_activated_never_beats_the_project_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = fake_venv(tmp_path / "opt" / "dg")
    monkeypatch.setattr(sys, "prefix", str(tools))
    project = tmp_path / "project"
    project_venv = fake_venv(project / ".venv")
    # Docker's ENV PATH=/opt/dg/bin:$PATH, a tools venv on PATH: nothing is activated.
    environ = {"PATH": os.pathsep.join([str(tools / "bin"), "/usr/bin"])}
    env = find_environment(cwd=str(project), environ=environ)
    assert (env.found_by, env.prefix, env.notes) == ("./.venv", str(project_venv), ())
    # The tools venv activated by hand: still not the project's, and the note says why.
    environ["VIRTUAL_ENV"] = str(tools)
    env = find_environment(cwd=str(project), environ=environ)
    assert (env.found_by, env.prefix) == ("./.venv", str(project_venv))
    assert env.notes == (f"VIRTUAL_ENV {tools} was not checked: it is the environment "
                         "drift-guard runs from, and the project has ./.venv",)
    # pipx: drift-guard's own venv whatever the project has.
    pipx = fake_venv(tmp_path / "home" / ".local" / "pipx" / "venvs" / "drift-guard")
    monkeypatch.setattr(sys, "prefix", str(pipx))
    with pytest.raises(DriftGuardError, match="own pipx env"):
        find_environment(cwd=str(tmp_path), environ={"VIRTUAL_ENV": str(pipx),
                                                     "HOME": str(tmp_path / "home")})


def test_another_env_chosen_over_the_project_venv_is_noted(tmp_path: Path) -> None:
    other = fake_venv(tmp_path / "elsewhere")
    project = tmp_path / "project"
    fake_venv(project / ".venv")
    env = find_environment(cwd=str(project), environ={"VIRTUAL_ENV": str(other)})
    assert env.found_by == "VIRTUAL_ENV"
    (note,) = env.notes
    assert note.startswith(f"checked {other} (found by VIRTUAL_ENV: VIRTUAL_ENV is set")
    assert "not the project's ./.venv" in note and "--venv .venv" in note
    env = find_environment(venv=str(other), cwd=str(project), environ={})
    assert "--venv was given" in env.notes[0]
