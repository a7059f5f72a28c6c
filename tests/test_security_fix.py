"""--fix can never make things worse: it refuses rather than guesses, writes only from the
bytes the check read, once per physical file, one run at a time, and leaves nothing behind.

Most tests run the CLI in-process against a venv made of real dist-info folders (fast); the
process-level faults (signals, concurrent runs) run `python -m drift_guard` as a user would.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from drift_guard import cli, pipeline
from drift_guard.errors import DriftGuardError
from drift_guard.fix import _lock, run_fix
from drift_guard.fix import requirements as req_fix
from drift_guard.models import Environment, Finding, Installed, Report, Source
from tests.helpers import ROOT, run_cli

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def fake_venv(root: Path, dists: Dict[str, str], uv: bool = False) -> Path:
    """A virtualenv as drift-guard reads it: pyvenv.cfg and one dist-info per package."""
    venv = root / ".venv"
    site = venv / "lib" / PY / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    version = ".".join(map(str, sys.version_info[:3]))
    cfg = f"home = /usr/bin\nversion = {version}\ninclude-system-site-packages = false\n"
    (venv / "pyvenv.cfg").write_text(cfg + ("uv = 0.13.9\n" if uv else ""))
    for name, ver in dists.items():
        set_dist(venv, name, ver)
    return venv


def set_dist(venv: Path, name: str, version: Optional[str], requires: Tuple[str, ...] = ()
             ) -> None:
    """Install (`version`) or uninstall (None) `name` in a fake venv."""
    site = venv / "lib" / PY / "site-packages"
    for old in site.glob(f"{name.replace('-', '_')}-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    if version is None:
        return
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON", "PRE_COMMIT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


def dg(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tmp_leftovers(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def add_to_report(monkeypatch: pytest.MonkeyPatch, **fields: object) -> None:
    """Let the real check run, then give its report `fields` (warnings, findings added)."""
    real = pipeline.check

    def check(*args: object, **kwargs: object) -> Tuple[Report, Dict[str, Installed]]:
        report, installed = real(*args, **kwargs)  # type: ignore[arg-type]
        extra = dict(fields)
        if "findings" in extra:
            extra["findings"] = report.findings + tuple(extra["findings"])  # type: ignore
        return report._replace(**extra), installed  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "check", check)


# ---------------------------------------------------------------- refuse rather than guess


@pytest.mark.parametrize("option", ["--fix", "--diff"])
def test_an_environment_read_with_gaps_is_never_fixed_from(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    option: str
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    original = b"six==1.16.0\nidna==3.7  # everything would look missing\n"
    (project / "requirements.txt").write_bytes(original)
    site = f".venv/lib/{PY}/site-packages/loop"
    add_to_report(monkeypatch, warnings=(f"{site}: cannot list it: Too many levels of "
                                         "symbolic links", "a second\nwarning"))
    code, out, err = dg(capsys, option)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"drift-guard: error: {option}: the environment could not be read "
                          f"whole ({site}: cannot list it")
    assert "; and 1 more" in err
    assert "nothing was written" in err
    assert (project / "requirements.txt").read_bytes() == original


def test_a_warning_with_control_characters_stays_one_line() -> None:
    env = Environment("/v", None, "3.11.7", "--venv", ())
    report = Report(env, (), (Finding("missing", "x", None, "==1"),),
                    warnings=("/v/lib/a\nb\x1b[31m: unreadable",))
    with pytest.raises(DriftGuardError) as exc:
        run_fix(report, {}, write=True, root="/v")
    assert "\n" not in str(exc.value)
    assert "\x1b" not in str(exc.value)
    assert "a\\nb\\x1b[31m" in str(exc.value)


def test_a_venv_without_its_lib_directory_is_refused_not_emptied_into_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = fake_venv(project, {"six": "1.16.0"})
    original = b"# pinned\nsix==1.16.0\n"
    (project / "requirements.txt").write_bytes(original)
    (venv / "lib" / PY / "site-packages" / "six-1.16.0.dist-info" / "METADATA").unlink()
    (venv / "lib" / PY / "site-packages" / "six-1.16.0.dist-info").rmdir()
    (venv / "lib" / PY / "site-packages").rmdir()
    code, _, err = dg(capsys, "--fix")
    assert (project / "requirements.txt").read_bytes() == original
    assert code == 2, err


def test_a_symlink_loop_in_site_packages_is_refused_not_guessed_around(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = fake_venv(project, {"six": "1.16.0"})
    site = venv / "lib" / PY / "site-packages"
    (site / "idna-3.7.dist-info").symlink_to("idna-3.7.dist-info")  # a loop onto itself
    original = b"six==1.16.0\nidna==3.7\n"
    (project / "requirements.txt").write_bytes(original)
    code, out, err = dg(capsys, "--fix")
    assert (project / "requirements.txt").read_bytes() == original
    assert code == 2, out + err
    assert "idna-3.7.dist-info" in err


# ---------------------------------------------------------------- never record a broken env

ENV = Environment("/p/.venv", "/p/.venv/bin/python", "3.11.7", "./.venv", ())


def _broken(name: str, installed: Optional[str], spec: str, *by: str) -> Finding:
    """A broken finding as the check makes it: where the check names the requirement that
    resolves it (`suggested`), that is the name with its specifier here."""
    extra = {"suggested": name + spec} if "suggested" in Finding._fields else {}
    return Finding("broken", name, installed, spec, required_by=by, **extra)  # type: ignore


def test_a_broken_environment_stops_the_fix_with_the_conflicts_and_their_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"flask==3.0.0\nwerkzeug==3.0.0\n")
    findings = (
        Finding("mismatch", "werkzeug", "2.0.0", "==3.0.0", "requirements.txt", 2),
        _broken("werkzeug", "2.0.0", ">=3.0", "flask"),
        _broken("itsdangerous", None, ">=2.1", "flask"),
    )
    source = Source("requirements.txt", "requirements.txt", (), True, files=("requirements.txt",))
    report = Report(ENV, (source,), findings)
    installed = {"pip": Installed("pip", "pip", "24.0", (), "")}
    for write in (True, False):
        code, out, err = run_fix(report, installed, write=write, root=str(tmp_path))
        option = "--fix" if write else "--diff"
        assert (code, out) == (2, "")
        assert err.splitlines() == [
            f"drift-guard: error: {option}: the environment does not satisfy itself, and "
            "drift-guard does not record a state that cannot be installed; nothing was "
            "written:",
            "  werkzeug 2.0.0 is installed, but flask requires werkzeug>=3.0",
            "  itsdangerous is missing, but flask requires itsdangerous>=2.1",
            "  resolve it with: /p/.venv/bin/python -m pip install 'werkzeug>=3.0' "
            "'itsdangerous>=2.1'",
            f"  then run {option} again (or pass --allow-broken to record it as it is)",
        ]
        assert path.read_bytes() == b"flask==3.0.0\nwerkzeug==3.0.0\n"

    code, out, err = run_fix(report, installed, write=True, root=str(tmp_path),
                             allow_broken=True)
    assert code == 1, err
    assert out.startswith("drift-guard: --allow-broken: recording an environment that does not "
                          "satisfy itself (werkzeug 2.0.0 is installed, but flask requires "
                          "werkzeug>=3.0; ")
    assert path.read_bytes() == b"flask==3.0.0\nwerkzeug==2.0.0\n"


def test_the_resolution_for_a_uv_venv_uses_uv_pip(project: Path) -> None:
    venv = fake_venv(project, {}, uv=True)
    env = ENV._replace(prefix=str(venv), python=str(venv / "bin" / "python"))
    report = Report(env, (), (_broken("werkzeug", "2.0.0", ">=3.0", "flask"),))
    code, _, err = run_fix(report, {}, write=True, root=str(project))
    assert code == 2
    assert "  resolve it with: uv pip install --python .venv/bin/python 'werkzeug>=3.0'\n" in err


def _six_broken_by_extra(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project whose venv is broken: `extra` needs six>=2, six 1.16.0 is installed."""
    fake_venv(project, {"six": "1.16.0", "extra": "1.0"})
    (project / "requirements.txt").write_bytes(b"six==1.16.0\n")
    add_to_report(monkeypatch, findings=(_broken("six", "1.16.0", ">=2", "extra"),))


def test_allow_broken_reaches_the_fix_from_the_command_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _six_broken_by_extra(project, monkeypatch)
    code, out, err = dg(capsys, "--fix")
    assert code == 2
    assert "six 1.16.0 is installed, but extra requires six>=2" in err
    assert (project / "requirements.txt").read_bytes() == b"six==1.16.0\n"
    code, out, err = dg(capsys, "--fix", "--allow-broken")
    assert code == 1, err
    assert "--allow-broken: recording" in out
    assert (project / "requirements.txt").read_bytes() == b"extra==1.0\nsix==1.16.0\n"


# ---------------------------------------------------------------- one read, one truth


def test_a_file_changed_between_the_read_and_the_write_is_not_written(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")

    def someone_saves(target: str) -> None:
        Path(target).write_bytes(b"six==1.0\n# saved by an editor\n")

    monkeypatch.setattr(req_fix, "_before_swap", someone_saves)
    code, _out, err = dg(capsys, "--fix")
    assert code == 2
    assert err == ("drift-guard: error: requirements.txt: changed on disk since drift-guard "
                   "read it; nothing was written: run drift-guard --fix again\n")
    assert path.read_bytes() == b"six==1.0\n# saved by an editor\n"
    assert tmp_leftovers(project) == []


def test_a_file_changed_between_the_check_and_the_fix_is_not_planned_from(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")
    real = pipeline.check

    def check(*args: object, **kwargs: object) -> Tuple[Report, Dict[str, Installed]]:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        path.write_bytes(b"idna==3.7\nsix==1.0\n")  # the finding's line 1 is idna now
        return result

    monkeypatch.setattr(pipeline, "check", check)
    code, _, err = dg(capsys, "--fix")
    assert code == 2
    assert err == ("drift-guard: error: requirements.txt: changed on disk since drift-guard "
                   "checked it; nothing was written: run drift-guard again\n")
    assert path.read_bytes() == b"idna==3.7\nsix==1.0\n"


def test_a_file_reached_by_two_names_is_planned_and_written_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0", "idna": "3.7"})
    (project / "base.txt").write_bytes(b"six==1.0\nidna==3.6\n")
    (project / "alias.txt").symlink_to("base.txt")
    (project / "requirements.txt").write_bytes(b"-r base.txt\n-r alias.txt\n")
    code, out, err = dg(capsys, "--fix")
    assert code == 1, err
    assert err == ""
    assert out.count("drift-guard: rewrote") == 1
    assert (project / "base.txt").read_bytes() == b"six==1.16.0\nidna==3.7\n"
    assert (project / "alias.txt").is_symlink()
    assert dg(capsys)[0] == 0


def test_a_second_fix_waits_for_the_first_and_gives_up_with_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    (project / "requirements.txt").write_bytes(b"six==1.0\n")
    monkeypatch.setattr(_lock, "WAIT", 0.3)
    with _lock.ProjectLock(str(project)):
        started = time.monotonic()
        code, _out, err = dg(capsys, "--fix")
        assert time.monotonic() - started < 5
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"drift-guard: error: another drift-guard --fix on {project} still "
                          "runs after 0.3 s; nothing was written")
    assert (project / "requirements.txt").read_bytes() == b"six==1.0\n"
    # --diff writes nothing and takes no lock; after the first run the lock is free again.
    assert dg(capsys, "--diff")[0] == 1
    assert dg(capsys, "--fix")[0] == 1
    assert (project / "requirements.txt").read_bytes() == b"six==1.16.0\n"


def test_the_lock_lives_in_the_git_directory_or_in_a_private_temporary_one(
    tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert _lock.lock_path(str(repo / "sub")) == str(repo / ".git" / "drift-guard-fix.lock")
    plain = tmp_path / "plain"
    plain.mkdir()
    path = Path(_lock.lock_path(str(plain)))
    assert path.parent.name == f"drift-guard-{os.getuid()}"
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path != Path(_lock.lock_path(str(repo)))


# ---------------------------------------------------------------- idempotent


def test_a_missing_package_declared_twice_is_removed_in_one_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    (project / "dev.txt").write_bytes(b"idna==3.7\n")
    (project / "requirements.txt").write_bytes(
        b"six==1.16.0\nidna==3.7\n-r dev.txt\nidna==3.7 ; python_version >= '3'\n"
        b"idna==3.7 ; python_version < '3'\n")
    assert dg(capsys, "--fix")[0] == 1
    # The line whose marker excludes this Python stays: it is not missing here.
    assert (project / "requirements.txt").read_bytes() == (
        b"six==1.16.0\n-r dev.txt\nidna==3.7 ; python_version < '3'\n")
    assert (project / "dev.txt").read_bytes() == b""
    assert dg(capsys)[0] == 0


def test_require_pins_fix_does_not_turn_a_top_level_file_into_a_failing_frozen_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = fake_venv(project, {"markupsafe": "2.1.5"})
    set_dist(venv, "jinja2", "3.1.4", ("MarkupSafe>=2.0",))
    original = b"jinja2>=3\n"
    (project / "requirements.txt").write_bytes(original)
    assert dg(capsys)[0] == 0
    code, _out, err = dg(capsys, "--require-pins", "--fix")
    assert code == 2
    assert err.count("\n") == 1
    assert ("requirements.txt: --require-pins --fix would pin every requirement, and a fully "
            "pinned file is read as frozen" in err)
    assert "(1 more: markupsafe)" in err
    assert "--top-level requirements.txt" in err
    assert (project / "requirements.txt").read_bytes() == original


@pytest.mark.skipif("--top-level" not in cli.build_parser().format_help(),
                    reason="needs the --top-level option")
def test_require_pins_fix_keeps_a_file_declared_top_level_top_level(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = fake_venv(project, {"markupsafe": "2.1.5"})
    set_dist(venv, "jinja2", "3.1.4", ("MarkupSafe>=2.0",))
    (project / "requirements.txt").write_bytes(b"jinja2>=3\n")
    args = ("--require-pins", "--top-level", "requirements.txt")
    assert dg(capsys, *args, "--fix")[0] == 1
    assert (project / "requirements.txt").read_bytes() == b"jinja2==3.1.4\n"
    assert dg(capsys, *args)[0] == 0


def test_a_refusal_under_format_json_is_one_line_on_stderr_and_nothing_on_stdout(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _six_broken_by_extra(project, monkeypatch)
    code, out, err = dg(capsys, "--diff", "--format", "json")
    assert (code, out) == (2, "")
    assert err.startswith("drift-guard: error: --diff: the environment does not satisfy itself")


def test_require_pins_fix_pins_a_top_level_file_when_nothing_else_is_installed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    (project / "requirements.txt").write_bytes(b"six>=1\n")
    assert dg(capsys, "--require-pins", "--fix")[0] == 1
    assert (project / "requirements.txt").read_bytes() == b"six==1.16.0\n"
    assert dg(capsys, "--require-pins")[0] == 0


# ---------------------------------------------------------------- clean exit


def test_a_hard_linked_file_is_refused_not_split(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")
    os.link(path, project / "shared.txt")
    code, _out, err = dg(capsys, "--fix")
    assert code == 2
    assert err == ("drift-guard: error: requirements.txt: has 2 hard links; replacing it would "
                   "split them, so drift-guard writes nothing: apply the change by hand "
                   "(drift-guard --diff shows it)\n")
    assert path.read_bytes() == (project / "shared.txt").read_bytes() == b"six==1.0\n"
    assert path.stat().st_ino == (project / "shared.txt").stat().st_ino
    assert tmp_leftovers(project) == []


def _xattrs_supported(directory: Path) -> bool:
    probe = directory / "xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.drift_guard_probe", b"1")
    except (OSError, AttributeError):
        return False
    finally:
        probe.unlink()
    return True


def test_extended_attributes_and_the_mode_are_kept(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _xattrs_supported(project):
        pytest.skip("this file system has no user extended attributes")
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")
    path.chmod(0o640)
    os.setxattr(path, "user.origin", b"https://example.org/reqs")
    os.setxattr(path, "user.checksum", b"\x00\x01binary")
    assert dg(capsys, "--fix")[0] == 1
    assert path.read_bytes() == b"six==1.16.0\n"
    assert os.getxattr(path, "user.origin") == b"https://example.org/reqs"
    assert os.getxattr(path, "user.checksum") == b"\x00\x01binary"
    assert path.stat().st_mode & 0o777 == 0o640


def test_an_attribute_that_cannot_be_carried_over_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _xattrs_supported(project):
        pytest.skip("this file system has no user extended attributes")
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")
    os.setxattr(path, "user.origin", b"x")

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setxattr", refuse)
    code, _, err = dg(capsys, "--fix")
    assert code == 2
    assert err == ("drift-guard: error: requirements.txt: has the extended attribute "
                   "'user.origin', which drift-guard cannot carry over to the rewritten file "
                   "(Operation not permitted); nothing of it was changed: apply the change by "
                   "hand (drift-guard --diff shows it)\n")
    assert path.read_bytes() == b"six==1.0\n"
    assert tmp_leftovers(project) == []


# A run of the CLI in which SIGTERM/SIGHUP arrives at a chosen point of the write.
_SIGNAL_AT = textwrap.dedent("""
    import os, signal, sys, tempfile
    sys.path.insert(0, {root!r})
    from drift_guard import cli
    from drift_guard.fix import requirements as fix
    point, signum = sys.argv[1], getattr(signal, sys.argv[2])

    def hit():
        os.kill(os.getpid(), signum)

    if point == "mkstemp":
        real_mkstemp = tempfile.mkstemp
        def mkstemp(*a, **k):
            made = real_mkstemp(*a, **k)
            hit()
            return made
        tempfile.mkstemp = mkstemp
    elif point == "fsync":
        real_fsync = os.fsync
        def fsync(fd):
            real_fsync(fd)
            hit()
        os.fsync = fsync
    elif point == "swap":
        fix._before_swap = lambda target: hit()
    elif point == "chmod":
        real_chmod = os.chmod
        def chmod(*a, **k):
            real_chmod(*a, **k)
            hit()
        os.chmod = chmod
    raise SystemExit(cli.main(["--fix"]))
""")


@pytest.mark.parametrize("point", ["mkstemp", "fsync", "chmod", "swap"])
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_during_the_write_leaves_no_temporary_file(
    project: Path, point: str, signame: str
) -> None:
    fake_venv(project, {"six": "1.16.0"})
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\n")
    script = project.parent / "signal_at.py"
    script.write_text(_SIGNAL_AT.format(root=str(ROOT)))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run([sys.executable, str(script), point, signame], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)
    if signame == "SIGINT":
        assert done.returncode == 130, done.stderr
        assert done.stderr.endswith("drift-guard: interrupted\n")
    else:  # the signal's own effect, once the temporary file is gone
        assert done.returncode == -getattr(signal, signame), done.stderr
    assert tmp_leftovers(project) == []
    assert path.read_bytes() == b"six==1.0\n"


@pytest.mark.e2e
def test_sigterm_at_random_moments_leaves_the_old_or_the_new_file_and_no_temporary_one(
    project: Path
) -> None:
    fake_venv(project, {f"pkg{i}": "2.0" for i in range(3)})
    path = project / "requirements.txt"
    # Big enough that the run spends a noticeable time reading, planning and writing.
    filler = b"".join(b"# comment line %d to make the file big\n" % i for i in range(20000))
    original = b"pkg0==1.0\n" + filler + b"pkg1==1.0\npkg2==2.0\n"
    fixed = b"pkg0==2.0\n" + filler + b"pkg1==2.0\npkg2==2.0\n"
    env = {"PYTHONPATH": str(ROOT)}
    path.write_bytes(original)
    start = time.monotonic()
    full = run_cli(["--fix"], cwd=project, env=env)
    took = time.monotonic() - start
    assert full.returncode == 1, full.stderr
    assert path.read_bytes() == fixed
    rng = random.Random(11)
    outcomes = set()
    for _ in range(12):
        path.write_bytes(original)
        proc = subprocess.Popen(
            [sys.executable, "-m", "drift_guard", "--fix"], cwd=project,
            env={**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, took * 1.1))
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        data = path.read_bytes()
        assert data in (original, fixed)
        assert tmp_leftovers(project) == []
        outcomes.add(data == fixed)
    assert False in outcomes  # at least one run was stopped before its write


# ---------------------------------------------------------------- concurrent runs


@pytest.mark.e2e
def test_four_concurrent_fixes_never_duplicate_a_line_or_tear_the_file(project: Path) -> None:
    fake_venv(project, {"alpha": "2.0", "beta": "1.0", "gamma": "1.0"})
    path = project / "requirements.txt"
    original = b"# app\nalpha==1.0\nbeta==1.0\ndelta==1.0\n"
    expected = b"# app\nalpha==2.0\nbeta==1.0\ngamma==1.0\n"
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
           "PYTHONPATH": str(ROOT)}
    for _ in range(25):
        path.write_bytes(original)
        procs = [subprocess.Popen([sys.executable, "-m", "drift_guard", "--fix"], cwd=project,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
        codes = []
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            codes.append((proc.returncode, err.decode()))
        assert path.read_bytes() == expected, codes
        # One run fixed it; the others, serialised behind it, found nothing left to do.
        assert sorted(c for c, _ in codes) == [0, 0, 0, 1], codes
        assert tmp_leftovers(project) == []
