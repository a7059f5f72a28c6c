"""--fix / --diff for lock files: the owning tool's own commands, run against the target env.

The plan() tests are fast and need no tool. The end-to-end tests run the real uv, poetry and
pipenv on projects built here, offline: every tool is pointed at a PEP 503 index served on
127.0.0.1 from wheels written by write_wheel, and the proxies point at a closed port (with
NO_PROXY for 127.0.0.1) so nothing can leave the machine unnoticed.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

import pytest

from drift_guard.fix import locks
from drift_guard.models import Environment, Finding, Installed, ReadContext, Source
from tests.helpers import ROOT, Venv, make_venv, pip, pip_list_freeze, write_wheel

ENV = Environment("/p/.venv", "/p/.venv/bin/python", "3.11.7", "./.venv", ())


def source(path: str, fmt: str) -> Source:
    return Source(path=path, format=fmt, requirements=(), frozen=True, files=(path,))


def undeclared(name: str, version: str, required_by: Tuple[str, ...] = ()) -> Finding:
    return Finding("undeclared", name, version, None, required_by=required_by)


def mismatch(name: str, installed: str, path: str) -> Finding:
    return Finding("mismatch", name, installed, "==2.0", path)


# ------------------------------------------------------------------- plan()


def test_uv_records_undeclared_roots_and_syncs_inexactly_in_the_target(tmp_path: Path) -> None:
    lock = str(tmp_path / "uv.lock")
    commands, notes = locks.plan(
        source(lock, "uv.lock"),
        [],
        ENV,
        [undeclared("rich", "13.7.1"), undeclared("mdurl", "0.1.2", required_by=("rich",))],
    )
    assert notes == []
    # uv's own bound (what `uv add rich` writes), with the lock kept at the installed version;
    # `--` so that no argument can be read as an option.
    assert [c.argv for c in commands] == [
        ("uv", "add", "--upgrade-package", "rich==13.7.1", "--", "rich>=13.7.1"),
        ("uv", "sync", "--inexact"),
    ]
    assert all(c.cwd == str(tmp_path) for c in commands)
    assert [c.shell(str(tmp_path)) for c in commands] == [
        "UV_PROJECT_ENVIRONMENT=/p/.venv UV_PYTHON=/p/.venv/bin/python uv add "
        "--upgrade-package rich==13.7.1 -- 'rich>=13.7.1'",
        "UV_PROJECT_ENVIRONMENT=/p/.venv UV_PYTHON=/p/.venv/bin/python uv sync --inexact",
    ]


def test_uv_pins_exactly_when_the_project_pins_exactly(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["six==1.16.0", "idna===3.7"]\n'
    )
    commands, _ = locks.plan(
        source(str(tmp_path / "uv.lock"), "uv.lock"), [], ENV, [undeclared("rich", "13.7.1")]
    )
    assert commands[0].argv == ("uv", "add", "--", "rich==13.7.1")


@pytest.mark.parametrize("name", ["--index-url=http://evil.example/", "-e", "x; os_name=='nt'"])
@pytest.mark.parametrize("fmt", ["uv.lock", "poetry.lock", "Pipfile.lock"])
def test_a_name_that_is_not_a_package_name_never_reaches_the_tool(
    tmp_path: Path, fmt: str, name: str
) -> None:
    dist = Installed(name, name, "1.0", (), str(tmp_path))
    found = Finding("undeclared", name, "1.0", None)
    commands, notes = locks.plan(source(str(tmp_path / fmt), fmt), [], ENV, [found], {name: dist})
    assert commands == []
    assert len(notes) == 1
    assert "records nothing" in notes[0]


@pytest.mark.parametrize("version", ["1.0; os_name == 'nt'", "1.0 @ http://x/", "-1"])
def test_a_version_that_is_not_a_version_never_reaches_the_tool(
    tmp_path: Path, version: str
) -> None:
    found = Finding("undeclared", "six", version, None)
    commands, notes = locks.plan(source(str(tmp_path / "uv.lock"), "uv.lock"), [], ENV, [found])
    assert commands == []
    assert len(notes) == 1


def test_poetry_installs_rather_than_syncs_and_is_checked_for_the_env_it_acts_on(
    tmp_path: Path,
) -> None:
    lock = str(tmp_path / "poetry.lock")
    commands, _ = locks.plan(source(lock, "poetry.lock"), [], ENV, [undeclared("six", "1.16.0")])
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "my-app"\n')
    (tmp_path / "my_app").mkdir()
    commands, _ = locks.plan(source(lock, "poetry.lock"), [], ENV, [undeclared("six", "1.16.0")])
    assert [c.shell(str(tmp_path)) for c in commands] == [
        "VIRTUAL_ENV=/p/.venv poetry add -- six==1.16.0",
        "VIRTUAL_ENV=/p/.venv poetry install",
    ]
    assert {c.probe for c in commands} == {
        ("poetry", "--no-plugins", "--no-interaction", "env", "info", "--path")
    }
    assert {c.target for c in commands} == {"/p/.venv"}


@pytest.mark.parametrize(
    ("pyproject", "package_dir", "root"),
    [
        ('[tool.poetry]\nname = "my-app"\n', None, False),  # no package: poetry would fail
        ('[tool.poetry]\nname = "my-app"\n', "my_app", True),
        ('[tool.poetry]\nname = "my-app"\n', "src/my_app", True),
        ('[project]\nname = "my.app"\n', "my_app.py", True),
        ('[tool.poetry]\nname = "my-app"\npackage-mode = false\n', "my_app", False),
        ('[tool.poetry]\nname = "x"\npackages = [{include = "lib"}]\n', None, True),
    ],
)
def test_poetry_installs_the_root_only_of_a_package_project(
    tmp_path: Path, pyproject: str, package_dir: Optional[str], root: bool
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    if package_dir and package_dir.endswith(".py"):
        (tmp_path / package_dir).write_text("")
    elif package_dir:
        (tmp_path / package_dir).mkdir(parents=True)
    (command,) = locks.plan(
        source(str(tmp_path / "poetry.lock"), "poetry.lock"), [mismatch("b", "1", "x")], ENV
    )[0]
    assert command.argv == ("poetry", "install") + (() if root else ("--no-root",))


def test_pipenv_installs_then_syncs_dev(tmp_path: Path) -> None:
    lock = str(tmp_path / "Pipfile.lock")
    commands, _ = locks.plan(source(lock, "Pipfile.lock"), [], ENV, [undeclared("six", "1.16.0")])
    assert [c.shell(str(tmp_path)) for c in commands] == [
        "VIRTUAL_ENV=/p/.venv pipenv install six==1.16.0",
        "VIRTUAL_ENV=/p/.venv pipenv sync --dev",
    ]
    assert {c.probe for c in commands} == {("pipenv", "--venv")}


@pytest.mark.parametrize(
    ("fmt", "sync"),
    [
        ("uv.lock", ("uv", "sync", "--inexact")),
        ("poetry.lock", ("poetry", "install", "--no-root")),
        ("Pipfile.lock", ("pipenv", "sync", "--dev")),
    ],
)
def test_missing_or_mismatched_packages_need_only_the_sync(
    tmp_path: Path, fmt: str, sync: Tuple[str, ...]
) -> None:
    lock = str(tmp_path / fmt)
    found = [mismatch("beta", "1.0", lock), Finding("missing", "gamma", None, "==1.0", lock)]
    commands, notes = locks.plan(source(lock, fmt), found, ENV)
    assert [c.argv for c in commands] == [sync]
    assert notes == []


@pytest.mark.parametrize(
    ("fixture", "with_groups", "sync"),
    [
        ("poetry-demo/poetry.lock", (), ("poetry", "install", "--no-root")),
        (
            "poetry-demo/poetry.lock",
            ("docs",),
            ("poetry", "install", "--with", "docs", "--no-root"),
        ),
        ("uv-demo/uv.lock", (), ("uv", "sync", "--inexact")),
        ("uv-demo/uv.lock", ("docs",), ("uv", "sync", "--inexact", "--group", "docs")),
        ("pipenv-demo/Pipfile.lock", (), ("pipenv", "sync", "--dev")),
        (
            "pipenv-demo/Pipfile.lock",
            ("lint",),
            ("pipenv", "sync", "--categories", "packages dev-packages lint"),
        ),
    ],
)
def test_the_sync_installs_the_groups_the_check_selected(
    fixture: str, with_groups: Tuple[str, ...], sync: Tuple[str, ...]
) -> None:
    from drift_guard.markers import target_environment
    from drift_guard.readers import read_source

    path = str(ROOT / "fixtures" / "locks" / fixture)
    ctx = ReadContext(markers=target_environment(ENV), with_groups=with_groups)
    lock = read_source(path, ctx)
    commands, _ = locks.plan(lock, [mismatch("six", "1.0", path)], ENV)
    assert [c.argv for c in commands] == [sync]


def test_nothing_to_do_gives_no_command(tmp_path: Path) -> None:
    lock = str(tmp_path / "uv.lock")
    only_dependencies = [undeclared("mdurl", "0.1.2", required_by=("rich",))]
    assert locks.plan(source(lock, "uv.lock"), [], ENV, only_dependencies) == ([], [])


def test_commands_outside_the_current_directory_say_where_they_run(tmp_path: Path) -> None:
    sub = tmp_path / "sub dir"
    sub.mkdir()
    (command,) = locks.plan(
        source(str(sub / "poetry.lock"), "poetry.lock"), [mismatch("b", "1", "x")], ENV
    )[0]
    assert command.shell(str(tmp_path)) == (
        f"cd {shlex.quote(str(sub))} && VIRTUAL_ENV=/p/.venv poetry install --no-root"
    )
    assert command.shell(str(sub)) == "VIRTUAL_ENV=/p/.venv poetry install --no-root"


def _dist(tmp_path: Path, name: str, direct_url: Optional[Dict[str, Any]]) -> Installed:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    url = None
    editable = False
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
        url = direct_url["url"]
        editable = bool(direct_url.get("dir_info", {}).get("editable"))
    return Installed(name.lower(), name, "1.0", (), str(info), editable, url)


def test_direct_references_and_editables_are_recorded_as_installed(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    lib = tmp_path / "lib"
    installed = {
        "mylib": _dist(tmp_path, "MyLib", {"url": lib.as_uri(), "dir_info": {"editable": True}}),
        "gitpkg": _dist(
            tmp_path,
            "gitpkg",
            {"url": "https://example.org/g.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
        ),
        "Flask": _dist(tmp_path, "Flask", None),
    }
    installed["flask"] = installed.pop("Flask")
    found = [undeclared("mylib", "1.0"), undeclared("gitpkg", "1.0"), undeclared("flask", "1.0")]
    git = "gitpkg @ git+https://example.org/g.git@abc"
    for fmt, add, editable in [
        (
            "uv.lock",
            ("uv", "add", "--upgrade-package", "Flask==1.0", "--", git, "Flask>=1.0"),
            ("uv", "add", "--editable", "--", "../lib"),
        ),
        (
            "poetry.lock",
            ("poetry", "add", "--", git, "Flask==1.0"),
            ("poetry", "add", "--editable", "--", "../lib"),
        ),
        (
            "Pipfile.lock",
            ("pipenv", "install", git, "Flask==1.0"),
            ("pipenv", "install", "-e", "../lib"),
        ),
    ]:
        lock = str(project / fmt)
        commands, _ = locks.plan(source(lock, fmt), [], ENV, found, installed)
        assert [c.argv for c in commands[:2]] == [add, editable]


@pytest.mark.parametrize(
    ("created_by", "says"),
    [
        ("uv", "uv add hand==1.0 && uv export --format pylock.toml -o pylock.toml"),
        ("pipenv", "pipenv install hand==1.0"),
        ("pdm", "pdm add hand==1.0 && pdm export -f pylock -o pylock.toml"),
        ("pip", "pip lock -o pylock.toml -r"),
        ("hatch", "with the tool that wrote it (hatch)"),
    ],
)
def test_pylock_says_which_command_regenerates_it(
    tmp_path: Path, created_by: str, says: str
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(f'lock-version = "1.0"\ncreated-by = "{created_by}"\n')
    commands, notes = locks.plan(
        source(str(lock), "pylock.toml"), [], ENV, [undeclared("hand", "1.0")]
    )
    assert commands == []
    (note,) = notes
    assert "drift-guard does not edit pylock.toml; record hand==1.0" in note
    assert says in note


def test_pylock_stale_packages_are_installed_from_it_into_the_target(tmp_path: Path) -> None:
    lock = str(tmp_path / "pylock.toml")
    (command,) = locks.plan(source(lock, "pylock.toml"), [mismatch("b", "1", lock)], ENV)[0]
    assert command.shell(str(tmp_path)) == (
        "uv pip install --python /p/.venv/bin/python -r pylock.toml"
    )


# ------------------------------------------------------------------- run()


def _fake_tool(bin_dir: Path, name: str, prints: str) -> Path:
    """A stand-in tool that logs its arguments and prints `prints` when probed."""
    bin_dir.mkdir(exist_ok=True)
    log = bin_dir / f"{name}.log"
    script = bin_dir / name
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$VIRTUAL_ENV ${{PIPENV_IGNORE_VIRTUALENVS:-}}$*" >> {shlex.quote(str(log))}\n'
        f'case "$*" in *"env info --path"|--venv) echo {shlex.quote(prints)};; esac\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def test_a_tool_not_on_path_runs_nothing_and_prints_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    commands, _ = locks.plan(
        source(str(tmp_path / "uv.lock"), "uv.lock"), [], ENV, [undeclared("six", "1.0")]
    )
    ok, messages = locks.run(commands, str(tmp_path))
    assert not ok
    assert messages == [
        "uv not on PATH; nothing was run. Run these:",
        "UV_PROJECT_ENVIRONMENT=/p/.venv UV_PYTHON=/p/.venv/bin/python uv add "
        "--upgrade-package six==1.0 -- 'six>=1.0'",
        "UV_PROJECT_ENVIRONMENT=/p/.venv UV_PYTHON=/p/.venv/bin/python uv sync --inexact",
    ]


def _fake_venv(path: Path) -> Environment:
    path.mkdir()
    (path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    return ENV._replace(prefix=str(path), python=str(path / "bin" / "python"))


def test_a_tool_that_would_act_on_another_env_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _fake_venv(tmp_path / "target")
    elsewhere = _fake_venv(tmp_path / "managed-env").prefix
    log = _fake_tool(tmp_path / "bin", "poetry", elsewhere)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    commands, _ = locks.plan(
        source(str(tmp_path / "poetry.lock"), "poetry.lock"), [], target, [undeclared("six", "1.0")]
    )
    ok, messages = locks.run(commands, str(tmp_path))
    assert not ok
    assert messages[0] == (
        f"poetry would act on {elsewhere}, not on the checked environment {target.prefix} (a "
        "`poetry env use` choice for this project outranks VIRTUAL_ENV); nothing was run. "
        f"Check {elsewhere} with --venv, or run these yourself where they reach the checked "
        "environment:"
    )
    assert messages[1:] == [c.shell(str(tmp_path)) for c in commands]
    # asked (without the repository's plugins), nothing else
    assert log.read_text() == f"{target.prefix} --no-plugins --no-interaction env info --path\n"


@pytest.mark.parametrize("fmt", ["uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml"])
def test_no_tool_installs_into_a_target_that_is_not_a_virtualenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    conda = tmp_path / "conda-env"
    (conda / "conda-meta").mkdir(parents=True)
    env = ENV._replace(prefix=str(conda), python=str(conda / "bin" / "python"))
    tool = {"uv.lock": "uv", "poetry.lock": "poetry", "Pipfile.lock": "pipenv"}.get(fmt, "uv")
    log = _fake_tool(tmp_path / "bin", tool, str(conda))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    lock = str(tmp_path / fmt)
    commands, _ = locks.plan(source(lock, fmt), [mismatch("b", "1", lock)], env)
    ok, messages = locks.run(commands, str(tmp_path))
    assert not ok
    assert messages == [
        f"{conda} is not a virtualenv; drift-guard lets no tool install into it, nothing was "
        "run. Run these yourself if that is meant:",
        *(c.shell(str(tmp_path)) for c in commands),
    ]
    assert not log.exists()


def test_inherited_variables_do_not_redirect_the_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _fake_venv(tmp_path / "target")
    target = env.prefix
    log = _fake_tool(tmp_path / "bin", "pipenv", str(target))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("VIRTUAL_ENV", "/hook/env")
    monkeypatch.setenv("PIPENV_IGNORE_VIRTUALENVS", "1")
    lock = str(tmp_path / "Pipfile.lock")
    commands, _ = locks.plan(source(lock, "Pipfile.lock"), [mismatch("b", "1", lock)], env)
    ok, messages = locks.run(commands, str(tmp_path))
    assert ok, messages
    # VIRTUAL_ENV is the target's, PIPENV_IGNORE_VIRTUALENVS is gone.
    assert log.read_text() == f"{target} --venv\n{target} sync --dev\n"
    assert messages[0] == f"$ VIRTUAL_ENV={target} pipenv sync --dev"


@pytest.mark.parametrize("tool_fmt", [("uv", "uv.lock"), ("poetry", "poetry.lock")])
def test_a_tool_that_never_returns_is_stopped_with_its_children_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool_fmt: Tuple[str, str]
) -> None:
    import time

    name, fmt = tool_fmt
    env = _fake_venv(tmp_path / "target")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "child.pid"
    script = bin_dir / name
    # Answers the probe, then hangs in a child that holds the output pipe open.
    script.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *"env info --path") echo {shlex.quote(env.prefix)}; exit 0;; esac\n'
        f"sleep 1000 & echo $! > {shlex.quote(str(pid_file))}\n"
        "wait\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DRIFT_GUARD_TOOL_TIMEOUT", "1.5")
    lock = str(tmp_path / fmt)
    commands, _ = locks.plan(source(lock, fmt), [mismatch("b", "1", lock)], env)
    started = time.monotonic()
    ok, messages = locks.run(commands, str(tmp_path))
    assert time.monotonic() - started < 20
    assert not ok
    assert messages[-1] == (
        f"{name} did not finish within 1.5 s and was stopped; nothing more was run (set "
        "DRIFT_GUARD_TOOL_TIMEOUT to give it longer, or run it by hand)"
    )
    child = int(pid_file.read_text())
    for _ in range(50):  # the whole process group was killed, not only the shell
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state in ("Z", "X"):  # killed, waiting for a parent that never reaps here
            break
        time.sleep(0.1)
    else:
        pytest.fail("the tool's child still runs")


# ------------------------------------------------------------------- end to end, offline

WHEELS = [
    ("alpha", "1.0", ["beta>=1"]),
    ("beta", "1.0", []),
    ("beta", "2.0", []),
    ("gamma", "1.0", []),
    ("hand", "1.0", ["handdep"]),
    ("hand", "2.0", ["handdep"]),  # newer than installed: uv add must not move the lock to it
    ("handdep", "1.0", []),
    ("stray", "1.0", []),
    ("drift-guard", "0.1.0", []),  # a stand-in, as the drift-guard-system hook installs it
]


class Index(NamedTuple):
    url: str
    files: Path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """A PEP 503 simple index on 127.0.0.1 serving the WHEELS."""
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    by_name: Dict[str, List[Path]] = {}
    for name, version, requires in WHEELS:
        by_name.setdefault(name, []).append(write_wheel(files, name, version, requires))
    for name, wheels in by_name.items():
        page = root / "simple" / name
        page.mkdir(parents=True)
        links = "".join(
            f'<a href="../../files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">'
            f"{w.name}</a>\n"
            for w in wheels
        )
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Index(f"http://127.0.0.1:{server.server_address[1]}/simple/", files)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only uv, poetry and pipenv, to put on PATH."""
    here = tmp_path_factory.mktemp("tools")
    for tool in ("uv", "poetry", "pipenv"):
        found = shutil.which(tool, path=os.path.dirname(sys.executable)) or shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed (pip install -e .[test])")
        (here / tool).symlink_to(found)
    return here


@pytest.fixture(scope="module")
def tool_env(tmp_path_factory: pytest.TempPathFactory, tools: Path) -> Dict[str, str]:
    """The environment for the tools and drift-guard: offline, no user configuration, caches
    in tmp."""
    state = tmp_path_factory.mktemp("state")
    dropped = ("PIP_", "UV_", "POETRY_", "PIPENV_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(dropped)
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON", "PYTHONPATH")
    }
    closed = "http://127.0.0.1:9"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[var] = env[var.lower()] = closed
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env[var] = str(state / var.lower())
    env.update(
        PATH=f"{tools}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
        PIP_CONFIG_FILE=os.devnull,
        UV_CACHE_DIR=str(state / "uv"),
        UV_PYTHON_DOWNLOADS="never",
        POETRY_CACHE_DIR=str(state / "poetry"),
        POETRY_CONFIG_DIR=str(state / "poetry-config"),
        POETRY_DATA_DIR=str(state / "poetry-data"),
        PIPENV_CACHE_DIR=str(state / "pipenv"),
        PIPENV_NOSPIN="1",
        PIPENV_VERBOSITY="-1",
    )
    return env


def tool(args: List[str], cwd: Path, env: Mapping[str, str], **extra: str) -> str:
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**env, **extra},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def drift_guard(
    args: List[str], cwd: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """The CLI as a process; this checkout is put on its sys.path, not on PYTHONPATH, which
    the tools it runs would inherit."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from drift_guard.cli import main; raise SystemExit(main())"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )


def freeze(venv: Path) -> Dict[str, str]:
    return pip_list_freeze(Venv(venv, venv / "bin" / "python"))


def hand_install(venv: Path, index: Index, *reqs: str) -> None:
    pip(Venv(venv, venv / "bin" / "python"), "install", *reqs, find_links=index.files)


def locked(lock: Path) -> Dict[str, str]:
    """{name: locked version} as drift-guard's own reader sees the lock."""
    from packaging.markers import default_environment

    from drift_guard.readers import read_source

    markers = {k: str(v) for k, v in default_environment().items()}
    ctx = ReadContext(markers=markers, project_dir=str(lock.parent))
    return {r.name: r.specifier for r in read_source(str(lock), ctx).requirements}


# One description per tool: how to write and lock a fixture project and fill a venv from it.


class Kind(NamedTuple):
    lock: str
    manifest: str
    write: Callable[[Path, Index], None]
    lock_it: Callable[[Path, Dict[str, str]], None]
    fill: Callable[[Path, Path, Dict[str, str]], None]
    """(project, venv, env): make `venv` as the tool does for this project."""
    add: Callable[[Path], str]
    sync: Callable[[Path], str]


def _uv_write(root: Path, index: Index) -> None:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "uvdemo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["alpha", "gamma==1.0"]\n\n'
        f'[[tool.uv.index]]\nname = "local"\nurl = "{index.url}"\ndefault = true\n'
    )


def _uv_lock(root: Path, env: Dict[str, str]) -> None:
    tool(["uv", "lock", "--python", sys.executable], root, env)


def _uv_fill(root: Path, venv: Path, env: Dict[str, str]) -> None:
    tool(["uv", "sync", "--python", sys.executable], root, env, UV_PROJECT_ENVIRONMENT=str(venv))


def _uv_target(venv: Path) -> str:
    return f"UV_PROJECT_ENVIRONMENT={venv} UV_PYTHON={venv}/bin/python"


def _poetry_write(root: Path, index: Index, package_mode_false: bool = True) -> None:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "poetrydemo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["alpha", "gamma==1.0"]\n\n'
        + ("[tool.poetry]\npackage-mode = false\n\n" if package_mode_false else "")
        +
        f'[[tool.poetry.source]]\nname = "local"\nurl = "{index.url}"\npriority = "primary"\n'
    )


def _poetry_lock(root: Path, env: Dict[str, str]) -> None:
    # Locking needs no env: keep poetry from creating one in its cache.
    tool(["poetry", "lock"], root, env, POETRY_VIRTUALENVS_CREATE="false")


def _poetry_fill(root: Path, venv: Path, env: Dict[str, str]) -> None:
    # With pip and setuptools, as most venvs have them: `poetry sync` would remove setuptools.
    make_venv(venv)
    # --no-root: an application without package-mode has no package for poetry to install.
    tool(["poetry", "install", "--no-root"], root, env, VIRTUAL_ENV=str(venv))


def _pipenv_write(root: Path, index: Index) -> None:
    (root / "Pipfile").write_text(
        f'[[source]]\nurl = "{index.url}"\nverify_ssl = false\nname = "local"\n\n'
        '[packages]\nalpha = "*"\ngamma = "==1.0"\n\n[dev-packages]\n'
    )


def _pipenv_lock(root: Path, env: Dict[str, str]) -> None:
    scratch = make_venv(root.parent / "lock-venv", with_pip=False)
    tool(["pipenv", "lock"], root, env, VIRTUAL_ENV=str(scratch.path))


def _pipenv_fill(root: Path, venv: Path, env: Dict[str, str]) -> None:
    make_venv(venv, with_pip=False)
    tool(["pipenv", "sync", "--dev"], root, env, VIRTUAL_ENV=str(venv))


KINDS = {
    "uv": Kind(
        "uv.lock",
        "pyproject.toml",
        _uv_write,
        _uv_lock,
        _uv_fill,
        lambda venv: f"{_uv_target(venv)} uv add --upgrade-package hand==1.0 -- 'hand>=1.0'",
        lambda venv: f"{_uv_target(venv)} uv sync --inexact",
    ),
    "poetry": Kind(
        "poetry.lock",
        "pyproject.toml",
        _poetry_write,
        _poetry_lock,
        _poetry_fill,
        lambda venv: f"VIRTUAL_ENV={venv} poetry add -- hand==1.0",
        lambda venv: f"VIRTUAL_ENV={venv} poetry install --no-root",
    ),
    # An application as `poetry new`/`poetry init` users write one: package-mode unset and no
    # package directory. `poetry install` without --no-root fails on the root project.
    "poetry-app": Kind(
        "poetry.lock",
        "pyproject.toml",
        lambda root, index: _poetry_write(root, index, package_mode_false=False),
        _poetry_lock,
        _poetry_fill,
        lambda venv: f"VIRTUAL_ENV={venv} poetry add -- hand==1.0",
        lambda venv: f"VIRTUAL_ENV={venv} poetry install --no-root",
    ),
    "pipenv": Kind(
        "Pipfile.lock",
        "Pipfile",
        _pipenv_write,
        _pipenv_lock,
        _pipenv_fill,
        lambda venv: f"VIRTUAL_ENV={venv} pipenv install hand==1.0",
        lambda venv: f"VIRTUAL_ENV={venv} pipenv sync --dev",
    ),
}


@pytest.fixture(scope="module")
def templates(
    tmp_path_factory: pytest.TempPathFactory, index: Index, tool_env: Dict[str, str]
) -> Callable[[str], Path]:
    """A locked project per tool, made once: tests work on copies."""
    made: Dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            root = tmp_path_factory.mktemp(f"{kind}-template") / "project"
            root.mkdir()
            KINDS[kind].write(root, index)
            KINDS[kind].lock_it(root, tool_env)
            made[kind] = root
        return made[kind]

    return get


def project_copy(templates: Callable[[str], Path], kind: str, dest: Path) -> Path:
    root = dest / "project"
    shutil.copytree(templates(kind), root)
    return root


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["uv", "poetry", "poetry-app", "pipenv"])
def test_undeclared_package_is_recorded_by_the_tool_and_a_second_run_is_clean(
    kind: str,
    tmp_path: Path,
    templates: Callable[[str], Path],
    index: Index,
    tool_env: Dict[str, str],
) -> None:
    k = KINDS[kind]
    root = project_copy(templates, kind, tmp_path)
    venv = root / ".venv"
    k.fill(root, venv, tool_env)
    clean = drift_guard([], root, tool_env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "./.venv" in clean.stdout

    # By hand: a package the project needs (recorded by --fix), one it does not (ignored), and
    # drift-guard itself: the tool's sync must not remove what the lock does not list.
    hand_install(venv, index, "hand==1.0", "stray==1.0", "drift-guard==0.1.0")
    lock, manifest = root / k.lock, root / k.manifest
    before = (lock.read_bytes(), manifest.read_bytes(), freeze(venv))

    diff = drift_guard(["--diff", "--ignore", "stray"], root, tool_env)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert diff.stdout == (
        f"# {k.lock}: drift-guard --fix would run:\n{k.add(venv)}\n{k.sync(venv)}\n"
    )
    assert (lock.read_bytes(), manifest.read_bytes(), freeze(venv)) == before

    fixed = drift_guard(["--fix", "--ignore", "stray"], root, tool_env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert f"$ {k.add(venv)}\n" in fixed.stdout
    assert f"$ {k.sync(venv)}\n" in fixed.stdout
    assert locked(lock) == {
        "alpha": "==1.0",
        "beta": "==2.0",
        "gamma": "==1.0",
        "hand": "==1.0",
        "handdep": "==1.0",
    }
    assert b"hand" in manifest.read_bytes()
    if kind == "uv":  # as `uv add hand` writes it, at the installed version, not the newest
        assert b'"hand>=1.0"' in manifest.read_bytes()
    after = freeze(venv)
    assert after["stray"] == "1.0"
    assert after["drift-guard"] == "0.1.0"
    assert after["hand"] == "1.0"
    assert {n: v for n, v in after.items() if n in ("pip", "setuptools")} == {
        n: v for n, v in before[2].items() if n in ("pip", "setuptools")
    }

    again = drift_guard(["--ignore", "stray"], root, tool_env)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["uv", "poetry", "pipenv"])
def test_mismatch_and_missing_are_synced_into_the_venv_given_not_the_projects_own(
    kind: str,
    tmp_path: Path,
    templates: Callable[[str], Path],
    index: Index,
    tool_env: Dict[str, str],
) -> None:
    k = KINDS[kind]
    root = project_copy(templates, kind, tmp_path)
    decoy = root / ".venv"
    k.fill(root, decoy, tool_env)
    target = tmp_path / "elsewhere"
    k.fill(root, target, tool_env)
    hand_install(target, index, "beta==1.0")
    pip(Venv(target, target / "bin" / "python"), "uninstall", "-y", "gamma")
    lock = root / k.lock
    lock_bytes, decoy_before = lock.read_bytes(), freeze(decoy)

    args = ["--venv", str(target)]
    report = drift_guard([*args, "--format", "json"], root, tool_env)
    assert report.returncode == 1, report.stderr
    kinds = {(f["kind"], f["name"]) for f in json.loads(report.stdout)["findings"]}
    assert kinds == {("mismatch", "beta"), ("missing", "gamma")}

    diff = drift_guard([*args, "--diff"], root, tool_env)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert diff.stdout == f"# {k.lock}: drift-guard --fix would run:\n{k.sync(target)}\n"

    fixed = drift_guard([*args, "--fix"], root, tool_env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert fixed.stdout.startswith(f"$ {k.sync(target)}\n")
    assert freeze(target)["beta"] == "2.0"
    assert freeze(target)["gamma"] == "1.0"
    assert lock.read_bytes() == lock_bytes
    assert freeze(decoy) == decoy_before

    again = drift_guard(args, root, tool_env)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.e2e
def test_without_the_tool_on_path_the_commands_are_printed_and_nothing_changes(
    tmp_path: Path, templates: Callable[[str], Path], index: Index, tool_env: Dict[str, str]
) -> None:
    root = project_copy(templates, "uv", tmp_path)
    venv = root / ".venv"
    _uv_fill(root, venv, tool_env)
    hand_install(venv, index, "hand==1.0", "beta==1.0")
    before = ((root / "uv.lock").read_bytes(), (root / "pyproject.toml").read_bytes(), freeze(venv))
    (tmp_path / "bin").mkdir()
    no_tools = {**tool_env, "PATH": str(tmp_path / "bin")}

    fixed = drift_guard(["--fix"], root, no_tools)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert fixed.stdout == (
        "uv not on PATH; nothing was run. Run these:\n"
        f"{KINDS['uv'].add(venv)}\n{KINDS['uv'].sync(venv)}\n"
    )
    after = ((root / "uv.lock").read_bytes(), (root / "pyproject.toml").read_bytes(), freeze(venv))
    assert after == before


def _newer_python(minor: int) -> Optional[Path]:
    """A working Python 3.`minor` or later, where this machine has one (on PATH, or beside
    this one under pyenv); pyenv's shims are on PATH but may refuse to run."""
    for m in range(minor, minor + 4):
        found = shutil.which(f"python3.{m}")
        candidates = [Path(found)] if found else []
        candidates += sorted(Path(sys.base_prefix).parent.glob(f"3.{m}.*/bin/python3.{m}"))
        for candidate in candidates:
            ran = subprocess.run([str(candidate), "-c", "pass"], capture_output=True, check=False)
            if ran.returncode == 0:
                return candidate
    return None


@pytest.mark.e2e
def test_uv_refuses_a_target_whose_python_the_project_no_longer_accepts_instead_of_recreating_it(
    tmp_path: Path, templates: Callable[[str], Path], index: Index, tool_env: Dict[str, str]
) -> None:
    root = project_copy(templates, "uv", tmp_path)
    venv = root / ".venv"
    _uv_fill(root, venv, tool_env)
    hand_install(venv, index, "beta==1.0")
    # The project moved on (a pull) to a Python the venv does not have. With a newer Python
    # on PATH, a plain `uv sync` would delete the venv and build a new one from that.
    minor = sys.version_info[1] + 1
    manifest = root / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace(">=3.9", f">=3.{minor}"))
    env = dict(tool_env)
    newer = _newer_python(minor)
    if newer is not None:
        env["PATH"] = f"{newer.parent}{os.pathsep}{env['PATH']}"
    before = freeze(venv)
    cfg = (venv / "pyvenv.cfg").read_bytes()

    fixed = drift_guard(["--fix"], root, env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert fixed.stdout.startswith(f"$ {KINDS['uv'].sync(venv)}\n")
    assert "incompatible with the project's Python requirement" in fixed.stdout
    assert fixed.stdout.endswith("uv failed (exit 2); stopped there\n")
    assert freeze(venv) == before
    assert (venv / "pyvenv.cfg").read_bytes() == cfg


@pytest.mark.e2e
def test_a_poetry_env_use_choice_that_outranks_the_target_stops_the_fix(
    tmp_path: Path, templates: Callable[[str], Path], index: Index, tool_env: Dict[str, str]
) -> None:
    root = project_copy(templates, "poetry", tmp_path)
    target = tmp_path / "target"
    _poetry_fill(root, target, tool_env)
    hand_install(target, index, "beta==1.0")
    # The user's own choice of env for this project, as `poetry env use` records it.
    tool(["poetry", "env", "use", sys.executable], root, tool_env)
    managed = tool(["poetry", "env", "info", "--path"], root, tool_env).strip()
    lock_bytes, target_before = (root / "poetry.lock").read_bytes(), freeze(target)

    fixed = drift_guard(["--venv", str(target), "--fix"], root, tool_env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert fixed.stdout == (
        f"poetry would act on {managed}, not on the checked environment {target} (a `poetry "
        "env use` choice for this project outranks VIRTUAL_ENV); nothing was run. Check "
        f"{managed} with --venv, or run these yourself where they reach the checked "
        f"environment:\nVIRTUAL_ENV={target} poetry install --no-root\n"
    )
    assert (root / "poetry.lock").read_bytes() == lock_bytes
    assert freeze(target) == target_before


@pytest.mark.e2e
def test_pylock_is_installed_from_by_uv_and_the_regenerating_command_is_named(
    tmp_path: Path, templates: Callable[[str], Path], index: Index, tool_env: Dict[str, str]
) -> None:
    root = project_copy(templates, "uv", tmp_path)
    tool(["uv", "export", "--format", "pylock.toml", "-o", "pylock.toml"], root, tool_env)
    venv = make_venv(tmp_path / "venv", with_pip=False)
    tool(
        ["uv", "pip", "install", "--python", str(venv.python), "-r", "pylock.toml"], root, tool_env
    )
    args = ["pylock.toml", "--venv", str(venv.path)]
    clean = drift_guard(args, root, tool_env)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    hand_install(venv.path, index, "hand==1.0", "beta==1.0")
    lock_bytes = (root / "pylock.toml").read_bytes()
    install = f"uv pip install --python {venv.python} -r pylock.toml"
    regenerate = (
        "pylock.toml: drift-guard does not edit pylock.toml; record hand==1.0 where the "
        "project declares its dependencies, then regenerate it: uv add hand==1.0 && "
        "uv export --format pylock.toml -o pylock.toml\n"
    )
    diff = drift_guard([*args, "--diff"], root, tool_env)
    assert diff.returncode == 1
    assert diff.stdout == f"# pylock.toml: drift-guard --fix would run:\n{install}\n"
    assert diff.stderr == regenerate
    assert freeze(venv.path)["beta"] == "1.0"

    fixed = drift_guard([*args, "--fix"], root, tool_env)
    assert fixed.returncode == 1
    assert fixed.stdout.startswith(f"$ {install}\n")
    assert fixed.stderr == regenerate
    assert freeze(venv.path)["beta"] == "2.0"
    assert (root / "pylock.toml").read_bytes() == lock_bytes

    again = drift_guard([*args, "--ignore", "hand,handdep"], root, tool_env)
    assert again.returncode == 0, again.stdout + again.stderr
