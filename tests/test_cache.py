"""The result cache replays an answer only while nothing the check looked at has changed.

Each test makes a real project with a real venv, runs the real CLI twice to see the second
run replayed, then changes one input and asserts the next run checks afresh and answers
for the new state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest

from drift_guard import cache
from tests.helpers import ROOT, Venv, make_venv, pip, pip_list_freeze, run_cli, write_wheel

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("wheels")
    write_wheel(d, "alpha", "1.0", ["beta>=1"])
    write_wheel(d, "beta", "1.0")
    write_wheel(d, "beta", "2.0")
    write_wheel(d, "gamma", "1.0")
    return d


@pytest.fixture
def quiet() -> Iterator[Path]:
    """A directory whose ancestors nothing else writes to while the test runs. The system's
    temporary directory is not one: other processes create entries in it all the time, and a
    check run below it is then never stored (its ancestors are part of what it looked at)."""
    import tempfile

    base = ROOT / "build" / "cache-tests"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def project(quiet: Path, wheels: Path) -> tuple[Path, Venv]:
    root = quiet / "proj"
    root.mkdir()
    venv = make_venv(root / ".venv", with_pip=False)
    pip(venv, "install", "alpha", "beta==1.0", find_links=wheels)
    freeze = "".join(f"{n}=={v}\n" for n, v in pip_list_freeze(venv).items())
    (root / "requirements.txt").write_text(freeze)
    return root, venv


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("DRIFT_GUARD_CACHE_DIR", str(d))
    monkeypatch.delenv("DRIFT_GUARD_NO_CACHE", raising=False)
    return d


def settle() -> None:
    """Let everything written so far fall out of the cache's racy window."""
    time.sleep(cache._RACY_NS / 1e9 + 0.1)


def entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.v*")) if d.exists() else []


def check(root: Path, *args: str) -> tuple[int, str]:
    done = run_cli(list(args), cwd=root, env={"DRIFT_GUARD_DEBUG": "1"})
    return done.returncode, done.stdout + done.stderr


def test_a_repeated_clean_check_is_stored_and_replayed(project, cache_dir: Path) -> None:
    root, _ = project
    settle()
    code, first = check(root)
    assert code == 0 and "no drift" in first
    assert len(entries(cache_dir)) == 1
    entry = entries(cache_dir)[0]
    stored = entry.stat().st_mtime_ns
    code, second = check(root)
    assert (code, second) == (0, first)
    assert entry.stat().st_mtime_ns == stored, "a replay rewrote the entry"


def test_a_run_inside_the_racy_window_is_not_stored(project, cache_dir: Path) -> None:
    root, _ = project
    (root / "requirements.txt").write_text((root / "requirements.txt").read_text())
    code, _ = check(root)
    assert code == 0
    assert entries(cache_dir) == []


MUTATIONS = {
    "requirements edited": lambda root, venv, wheels: (root / "requirements.txt").write_text(
        (root / "requirements.txt").read_text().replace("beta==1.0", "beta==2.0")
    ),
    "package installed": lambda root, venv, wheels: pip(
        venv, "install", "gamma", find_links=wheels
    ),
    "package upgraded": lambda root, venv, wheels: pip(
        venv, "install", "beta==2.0", find_links=wheels
    ),
    "package uninstalled": lambda root, venv, wheels: pip(venv, "uninstall", "-y", "beta"),
    "include added": lambda root, venv, wheels: _add_include(root),
    "pyproject added": lambda root, venv, wheels: _add_pyproject(root),
    "venv replaced": lambda root, venv, wheels: _replace_venv(root, wheels),
}


def _add_include(root: Path) -> None:
    (root / "extra.txt").write_text("gamma==1.0\n")
    with (root / "requirements.txt").open("a") as f:
        f.write("-r extra.txt\n")


def _add_pyproject(root: Path) -> None:
    (root / "more.txt").write_text("gamma==1.0\n")
    (root / "pyproject.toml").write_text(
        '[tool.drift-guard]\nsources = ["requirements.txt", "more.txt"]\n'
    )


def _replace_venv(root: Path, wheels: Path) -> None:
    shutil.rmtree(root / ".venv")
    venv = make_venv(root / ".venv", with_pip=False)
    pip(venv, "install", "alpha", "beta==2.0", find_links=wheels)


@pytest.mark.parametrize("change", sorted(MUTATIONS))
def test_any_change_to_what_was_read_is_seen(
    project, wheels: Path, cache_dir: Path, change: str
) -> None:
    root, venv = project
    settle()
    fresh_before = run_cli(["--no-cache"], cwd=root)
    code, replayed = check(root)
    code, replayed = check(root)
    assert entries(cache_dir), "the clean run was not stored"
    assert (code, replayed) == (fresh_before.returncode, fresh_before.stdout + fresh_before.stderr)

    MUTATIONS[change](root, venv, wheels)
    settle()
    fresh = run_cli(["--no-cache"], cwd=root)
    assert (fresh.returncode, fresh.stdout) != (fresh_before.returncode, fresh_before.stdout)
    code, answer = check(root)
    assert (code, answer) == (fresh.returncode, fresh.stdout + fresh.stderr)


def test_metadata_edited_in_place_is_seen(project, cache_dir: Path) -> None:
    # Against a top-level file beta is covered as alpha's dependency; once alpha's METADATA
    # no longer requires it, beta is undeclared. Only a file inside a dist-info changed.
    root, venv = project
    (root / "requirements.txt").write_text("alpha\n")
    settle()
    check(root)
    assert check(root)[0] == 0
    assert entries(cache_dir)
    meta = next(venv.site_packages().glob("alpha-*.dist-info")) / "METADATA"
    meta.write_text(meta.read_text().replace("Requires-Dist: beta>=1\n", ""))
    settle()
    code, out = check(root)
    assert code == 1 and "beta" in out


def test_other_arguments_environment_or_directory_are_other_entries(
    project, cache_dir: Path
) -> None:
    root, _ = project
    settle()
    assert check(root)[0] == 0
    code, out = check(root, "--format", "json")
    assert code == 0 and out.lstrip().startswith("{")
    done = run_cli([], cwd=root, env={"DRIFT_GUARD_IGNORE_ME": "1"})
    assert done.returncode == 0
    assert len(entries(cache_dir)) == 3


def test_fix_and_diff_never_use_the_cache(project, cache_dir: Path) -> None:
    root, _ = project
    settle()
    for args in (["--diff"], ["--fix"], ["--version"]):
        run_cli(args, cwd=root)
    assert entries(cache_dir) == []


def test_a_corrupt_or_foreign_entry_is_a_miss(project, cache_dir: Path) -> None:
    root, _ = project
    settle()
    check(root)
    (entry,) = entries(cache_dir)
    entry.write_bytes(b"\x00garbage")
    settle()
    code, out = check(root)
    assert code == 0 and "no drift" in out
    # A cache directory others may write to is never trusted.
    os.chmod(cache_dir, 0o777)
    for e in entries(cache_dir):
        e.unlink()
    check(root)
    assert entries(cache_dir) == []


def test_a_run_that_started_a_subprocess_is_not_stored(quiet: Path, cache_dir: Path) -> None:
    # A poetry project without a local venv: discovery asks `poetry`, whose answer depends on
    # state outside any file drift-guard read.
    root = quiet / "p"
    root.mkdir()
    (root / "poetry.lock").write_text(
        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\ncontent-hash = "x"\n'
    )
    bindir = quiet / "bin"
    bindir.mkdir()
    fake = bindir / "poetry"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    settle()
    run_cli([], cwd=root, env={"PATH": f"{bindir}:{os.environ['PATH']}"})
    assert entries(cache_dir) == []


def test_recorder_restores_every_function_it_wraps() -> None:
    import builtins
    import subprocess

    from drift_guard import _spawn

    def wrapped() -> tuple:
        return (os.stat, os.lstat, os.listdir, os.scandir, os.open, builtins.open,
                subprocess.Popen, _spawn.run, os.posix_spawnp, os.fork, os.system)

    before = wrapped()
    with cache.Recorder() as rec:
        os.stat(".")
        assert os.stat is not before[0]
        assert _spawn.run is not before[7]
    assert wrapped() == before
    assert os.path.abspath(".") in rec.watched


def test_a_program_started_other_than_by_git_taints_the_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    from drift_guard import _spawn

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    with cache.Recorder() as rec:
        assert _spawn.run(["git", "-C", str(tmp_path), "ls-files"], env=dict(os.environ),
                          timeout=20) is not None
    assert not rec.tainted  # git reading the index: watched, not a taint
    assert str(tmp_path / ".git" / "index") in rec.watched
    with cache.Recorder() as rec:
        _spawn.run([sys.executable, "-c", "pass"], env={}, timeout=20)
    assert rec.tainted
    with cache.Recorder() as rec:
        pid = os.posix_spawnp(sys.executable, [sys.executable, "-c", "pass"], {})
        os.waitpid(pid, 0)
    assert rec.tainted


def test_a_check_that_read_the_code_through_git_is_stored_and_sees_the_code_change(
    project, wheels: Path, cache_dir: Path
) -> None:
    import subprocess

    root, venv = project
    pip(venv, "install", "gamma", find_links=wheels)  # installed, undeclared
    (root / "app.py").write_text("import os\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "app.py", "requirements.txt"], cwd=root, check=True)
    settle()
    check(root)
    code, out = check(root)
    assert code == 1 and "imported by" not in out
    assert entries(cache_dir), "a run whose only subprocess was git ls-files was not stored"
    (root / "app.py").write_text("import os\nimport gamma\n")
    settle()
    code, out = check(root)
    assert code == 1 and "app.py:2" in out
    subprocess.run([*git, "rm", "-q", "-f", "--cached", "app.py"], cwd=root, check=True)
    settle()
    code, out = check(root)
    assert code == 1 and "app.py:2" not in out


def test_a_busy_directory_above_the_project_does_not_keep_the_answer_from_replaying(
    project, cache_dir: Path
) -> None:
    # The directories a path is resolved through (realpath) are passages: files coming and
    # going beside the project's repository (a busy /tmp or home directory) change nothing
    # of the check. (Up to the repository's root, an appearing pyproject.toml would.)
    import subprocess

    root, _ = project
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    settle()
    check(root)
    code, first = check(root)
    assert len(entries(cache_dir)) == 1
    for i in range(3):
        (root.parent / f"unrelated-{i}").write_text("x")
    code, again = check(root)
    assert "cache: not stored" not in again
    assert (code, again) == (0, first)
    assert len(entries(cache_dir)) == 1


def test_a_passage_replaced_by_a_link_elsewhere_is_seen(project, wheels: Path,
                                                         cache_dir: Path) -> None:
    root, venv = project
    settle()
    check(root)
    code, _ = check(root)
    assert code == 0
    # The venv's lib directory becomes a link to a copy missing a package: the same path
    # now resolves elsewhere.
    import shutil

    lib = venv.path / "lib"
    shutil.copytree(lib, root.parent / "lib-copy", symlinks=True)
    (dist,) = (root.parent / "lib-copy").glob("python*/site-packages/beta-*.dist-info")
    shutil.rmtree(dist)
    shutil.rmtree(lib)
    lib.symlink_to(root.parent / "lib-copy")
    settle()
    fresh = run_cli(["--no-cache"], cwd=root)
    assert fresh.returncode == 1
    code, answer = check(root)
    report = answer.split("drift-guard: cache:")[0]  # what follows is DRIFT_GUARD_DEBUG's
    assert (code, report) == (fresh.returncode, fresh.stdout + fresh.stderr)


def test_what_the_background_listing_read_is_watched(project, cache_dir: Path) -> None:
    # A large declaration file: the environment is listed in a child process, which records
    # what it reads for the parent. Only that listing read alpha's METADATA.
    from drift_guard.pipeline import OVERLAP_BYTES

    root, venv = project
    padding = "# " + "x" * 97 + "\n"
    (root / "requirements.txt").write_text(
        "alpha\n" + padding * (OVERLAP_BYTES // len(padding) + 1))
    script = root.parent / "spied.py"  # the CLI, saying whether it forked a listing
    script.write_text(textwrap.dedent("""
        import os, sys
        from drift_guard import _background, cli
        start = _background.start
        def spied(*args):
            # said on fd 2 itself: past the output the cache stores and replays
            child = start(*args)
            os.write(2, b"forked\\n" if child is not None else b"alone\\n")
            return child
        _background.start = spied
        sys.exit(cli.main(sys.argv[1:]))
    """))
    settle()
    env = {**os.environ, "NO_COLOR": "1", "DRIFT_GUARD_DEBUG": "1", "PYTHONPATH": str(ROOT)}

    def run() -> tuple[int, str]:
        done = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True,
                              text=True, env=env)
        return done.returncode, done.stdout + done.stderr

    code, out = run()
    assert code == 0 and "forked" in out, out
    code, out = run()
    assert code == 0 and "forked" not in out, out  # replayed: nothing listed
    assert entries(cache_dir)
    meta = next(venv.site_packages().glob("alpha-*.dist-info")) / "METADATA"
    meta.write_text(meta.read_text().replace("Requires-Dist: beta>=1\n", ""))
    settle()
    code, out = run()
    assert code == 1 and "beta" in out and "forked" in out, out
