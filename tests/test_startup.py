"""What the hook's common runs import: nothing the answer does not need.

The hook runs on every commit; each module imported is paid each time. These tests pin the
modules a whole command loads (in a fresh interpreter) for the runs the hook makes most:
a clean check of a frozen file, one with respelled names and markers, and one with drift.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_venv, pip, write_wheel

# Never on a check's path: argument parsing with help text, typing, TOML (no
# [tool.drift-guard] table), hashing, JSON, email parsing, packaging (every line here is
# decided by string comparison), subprocesses (git runs through drift_guard._spawn), pathlib,
# regular expressions (and enum, functools and collections, which `re` imports), shlex.
HEAVY = ("argparse", "typing", "tomllib", "tomli", "hashlib", "json", "email", "packaging",
         "subprocess", "pathlib", "importlib.metadata", "shutil", "tempfile", "ast", "re",
         "enum", "functools", "collections", "contextlib", "shlex", "fnmatch", "urllib",
         "locale", "threading", "signal")

_PROBE = """
import sys
before = set(sys.modules)
sys.argv = ["drift-guard", *sys.argv[1:]]
from drift_guard.cli import main
code = main()
loaded = sorted(set(sys.modules) - before)
import json
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startup")
    wheels = root / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "alpha", "1.0", requires=["beta>=2", 'gamma; sys_platform == "win32"'])
    write_wheel(wheels, "beta", "2.0.1")
    venv = make_venv(root / "proj" / ".venv", with_pip=False)
    pip(venv, "install", "--no-index", "alpha", "beta", find_links=wheels)
    (root / "proj" / ".git").mkdir()
    (root / "proj" / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha"]\n')
    return root / "proj"


def _loaded(project: Path, *args: str) -> tuple[int, list[str]]:
    # -S: the test venv's own .pth files import `re` and more before the probe starts; the
    # check needs nothing from site-packages on these paths (it would fail to import it).
    done = subprocess.run(
        [sys.executable, "-S", "-c", _PROBE, "--no-cache", "--python",
         str(project / ".venv" / "bin" / "python"), *args],
        cwd=project, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(project)},
    )
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    return probe["code"], probe["loaded"]


def _heavy(loaded: list[str]) -> list[str]:
    return [m for m in loaded if m in HEAVY or m.split(".")[0] in HEAVY]


@pytest.mark.parametrize("form", ["text", "json"])
@pytest.mark.parametrize(("text", "code"), [
    ("alpha==1.0\nbeta==2.0.1\n", 0),
    ("ALPHA == 1.0\nBeta == 2.0.1\n", 0),
    ('alpha==1.0\nbeta==2.0.1\npywin32==306; sys_platform == "win32"\n'
     "tomli==2.0.1; python_version < '3.0'\n", 0),
    ("alpha==1.0\nbeta==2.0.0\n", 1),  # a mismatch
    # beta undeclared: the import scan asks git which files the project tracks
    ("alpha==1.0\n", 1),
])
def test_the_hooks_usual_runs_import_nothing_heavy(project: Path, text: str, code: int,
                                                   form: str) -> None:
    (project / "requirements.txt").write_text(text)
    got, loaded = _loaded(project, "--quiet", "--format", form, "requirements.txt")
    assert got == code
    assert _heavy(loaded) == []
    assert "drift_guard.readers.requirements" in loaded  # the probe saw the real run


def test_help_still_comes_from_argparse(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "drift_guard", "--help"], cwd=project,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and "--allow-broken" in done.stdout


@pytest.mark.parametrize(("spelled", "candidate", "found"), [
    ("My__App.Core", "my-app-core", True),
    ("my-app", "my-app", True),
    ("my-app", "other", False),
    ("\\u006dy-app", "my-app", True),  # a TOML escape: parsed, and found
])
def test_the_projects_own_name_is_looked_up_only_when_it_may_be_a_finding(
        tmp_path: Path, spelled: str, candidate: str, found: bool) -> None:
    from drift_guard.pipeline import project_names

    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "{spelled}"\nversion = "1"\n')
    names = project_names(str(tmp_path), {candidate})
    assert (candidate in names) is found
    assert project_names(str(tmp_path)) == project_names(str(tmp_path), {"my-app", "my-app-core"})


@pytest.mark.parametrize("handler", [False, True])
def test_the_console_script_ends_at_once_with_every_byte_written(project: Path,
                                                                  handler: bool) -> None:
    # 300 requirements, none installed: a long JSON document through a pipe, exit status 1.
    (project / "requirements.txt").write_text(
        "".join(f"package-{i:03d}=={i}.0\n" for i in range(300)))
    script = (
        "import atexit, sys\n"
        + ("atexit.register(lambda: print('handler ran', file=sys.stderr))\n" if handler else "")
        + "from drift_guard.cli import run\n"
        "sys.argv = ['drift-guard', *sys.argv[1:]]\n"
        "sys.exit(run())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--no-cache", "--format", "json", "--python",
         str(project / ".venv" / "bin" / "python"), "requirements.txt"],
        cwd=project, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(project)},
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert sum(f["kind"] == "missing" for f in doc["findings"]) == 300
    assert ("handler ran" in done.stderr) is handler
