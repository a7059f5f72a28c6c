"""The README's examples are what happens: each example that shows output is run for real and
its output compared with the README's text, normalising only what cannot be the same on
every machine (the Python version, the absolute path of a venv made by the test).

- the demo at the top: its command, run as printed in a copy of this checkout;
- the blocked commit of the pre-commit section: the real pre-commit and git;
- the Zappa section's stopped `zappa package` and its bad-setting error: the real Zappa;
- the test command at the top is the one .ci/run runs, and the Development section's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest

from tests.helpers import ROOT, Venv, make_venv, pip, write_wheel

README = (ROOT / "README.md").read_text(encoding="utf-8")


class Block(NamedTuple):
    lang: str
    text: str
    before: str
    """The prose between the previous block and this one."""


def blocks() -> List[Block]:
    found = []
    last = 0
    for m in re.finditer(r"^```(\w*)\n(.*?)^```$", README, re.MULTILINE | re.DOTALL):
        found.append(Block(m.group(1), m.group(2), README[last:m.start()]))
        last = m.end()
    return found


def block_after(phrase: str) -> Block:
    (match,) = [b for b in blocks() if phrase in b.before]
    return match


def same_python(text: str, like: str) -> str:
    """`text` with its `Python X.Y.Z` replaced by the one `like` shows."""
    m = re.search(r"Python \d+\.\d+\.\d+", like)
    assert m is not None
    return re.sub(r"Python \d+\.\d+\.\d+", m.group(), text)


def commands(block: Block) -> List[str]:
    return [line for line in block.text.splitlines() if line and not line.startswith("#")]


# --- the commands at the top ---------------------------------------------------------------


def test_the_readme_test_command_is_what_ci_runs() -> None:
    _demo, tests = commands(blocks()[0])
    ci = (ROOT / ".ci" / "run").read_text().rstrip("\n").splitlines()
    assert ci[-1] == tests
    assert "rm -rf .venv-test" in ci  # a fresh venv, as the README's reader has
    (development,) = [b for b in blocks() if "## Development" in b.before]
    assert commands(development)[0] == tests


def test_no_install_line_names_a_package_or_tag_that_does_not_exist() -> None:
    # drift-guard is not on PyPI and has no release tags: install lines name a checkout or a
    # git URL, and pre-commit a commit.
    for block in blocks():
        for line in block.text.splitlines():
            bare = r"pip(x)? (install|run) (-q )?\"?drift-guard\b(?!.*git\+)"
            assert not re.search(bare, line), line
            assert "rev: v" not in line, line
    assert "<drift-guard-git-url>" in README.partition("## Install")[2].partition("\n## ")[0]


# --- the demo --------------------------------------------------------------------------------


def _copy_checkout(dest: Path) -> Path:
    """This checkout's files as a fresh clone has them (no venvs, caches or builds)."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv*", ".dg", "__pycache__", "*.egg-info", "build", "dist", ".*_cache",
        ".hypothesis", ".venv",
    )
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def _user_env(home: Path) -> dict:
    # A user's shell: nothing activated, the machine's pip configuration as it is.
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON", "PYTHONPATH",
                        "PRE_COMMIT", "NO_COLOR")}
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not os.path.isfile(os.path.join(os.path.dirname(p.rstrip("/")), "pyvenv.cfg"))]
    env["PATH"] = os.pathsep.join(path)
    env["HOME"] = str(home)
    return env


@pytest.mark.e2e
def test_the_demo_prints_the_report_the_readme_shows(tmp_path: Path) -> None:
    demo, _ = commands(blocks()[0])
    shown = block_after("The first command ends with exit status 1")
    checkout = _copy_checkout(tmp_path / "drift-guard")
    (tmp_path / "home").mkdir()
    result = subprocess.run(["sh", "-c", demo], cwd=checkout, env=_user_env(tmp_path / "home"),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 1, result.stdout + result.stderr
    assert same_python(result.stdout, shown.text) == shown.text


# --- the pre-commit section's blocked commit ---------------------------------------------------

pytest.importorskip("yaml")
from tests.test_precommit import (  # noqa: E402 - fixtures, used by name
    hook_repo,
    packages,
    sandbox,
    wheelhouse,
)

__all__ = ["hook_repo", "packages", "sandbox", "wheelhouse"]


@pytest.mark.e2e
def test_a_blocked_commit_looks_as_the_readme_shows(
    tmp_path: Path, sandbox, hook_repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    monkeypatch.delenv("PYTHONPATH", raising=False)
    shown = block_after("A blocked commit")
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "requests", "2.32.3")
    write_wheel(wheels, "httpie", "3.2.4")

    project = tmp_path / "project"
    project.mkdir()
    sandbox.git(project, "init", "-q")
    (project / "requirements.txt").write_text("requests==2.32.3\n")
    (project / ".gitignore").write_text(".venv/\n")
    config = {"repos": [{"repo": str(hook_repo.path), "rev": hook_repo.rev,
                         "hooks": [{"id": "drift-guard"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    venv = make_venv(project / ".venv")
    pip(venv, "install", "-r", str(project / "requirements.txt"), find_links=wheels)
    sandbox.git(project, "add", "-A")
    sandbox.git(project, "commit", "-q", "-m", "initial")
    sandbox.pre_commit(project, "install", check=True)
    # The hook's own environment is built once, on first use ("[INFO] Installing environment
    # ..."): build it now, as a developer's earlier commits did.
    sandbox.pre_commit(project, "install-hooks", check=True)

    pip(venv, "install", "httpie", find_links=wheels)  # by hand, never recorded
    (project / "app.py").write_text("import httpie\n")
    sandbox.git(project, "add", "app.py")
    refused = sandbox.git(project, "commit", "-q", "-m", "use httpie", check=False)
    assert refused.returncode == 1
    printed = refused.stdout + refused.stderr
    assert same_python(printed, shown.text) == shown.text


# --- the Zappa section -------------------------------------------------------------------------

pytest.importorskip("zappa")
from tests.test_zappa import run_zappa  # noqa: E402
from tests.test_zappa import wheelhouse as zappa_wheelhouse  # noqa: E402 - fixture, by name

__all__ += ["zappa_wheelhouse"]


@pytest.fixture(scope="module")
def zappa_venv(tmp_path_factory: pytest.TempPathFactory, zappa_wheelhouse: Path) -> Venv:
    venv = make_venv(tmp_path_factory.mktemp("readme-zappa") / "venv")
    pip(venv, "install", "zappa", "flask", "drift-guard", find_links=zappa_wheelhouse)
    # drift-guard as its real wheel ships it: its data files (the stdlib module lists) too.
    from drift_guard import __version__

    files = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
             for p in (ROOT / "drift_guard").rglob("*")
             if p.is_file() and p.suffix in (".py", ".txt") and "__pycache__" not in p.parts}
    own = tmp_path_factory.mktemp("readme-drift-guard")
    wheel = write_wheel(own, "drift-guard", __version__, requires=["packaging>=24"], modules=[],
                        files=files)
    pip(venv, "install", "--force-reinstall", "--no-deps", str(wheel))
    return venv


def _readme_zappa_project(tmp_path: Path, settings: dict) -> Path:
    project = tmp_path / "myapp"
    shutil.copytree(ROOT / "fixtures" / "zappa-app", project)
    (project / "zappa_settings.json").write_text(json.dumps(settings, indent=4))
    return project


def _without_version_check(printed: str) -> str:
    # Zappa asks PyPI whether it is the newest release; offline, as here, it prints why it
    # could not ask. Online it prints nothing (or an update notice): not part of the example.
    # An older runtime than the README's (see above) may be deprecated: a warning line the
    # README's python3.13 does not get.
    return "".join(
        line for line in printed.splitlines(keepends=True)
        if not line.startswith(("HTTPSConnectionPool(host='pypi.org'",
                                "drift-guard: warning: runtime python3."))
    )


def _readme_settings() -> dict:
    (block,) = [b for b in blocks() if b.lang == "json" and '"callbacks"' in b.text]
    return json.loads(block.text)


@pytest.mark.e2e
def test_zappa_stops_as_the_readme_shows(tmp_path: Path, zappa_venv: Venv) -> None:
    shown = block_after("and a report when\nsomething is wrong")
    settings = _readme_settings()
    # The README's runtime is python3.13; the venv here runs this interpreter's Python, and a
    # runtime the venv was not built for is a finding of its own: use the matching runtime.
    settings["production"]["runtime"] = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    # ... and that runtime's AWS dates (deprecated, blocked) are not the example's business:
    # the README's python3.13 is a supported runtime.
    settings["production"]["drift_guard"]["lambda"]["runtime"] = "off"
    project = _readme_zappa_project(tmp_path, settings)
    write_wheel(tmp_path / "hand", "left-pad-tool", "1.0.2")
    pip(zappa_venv, "install", "left-pad-tool", find_links=tmp_path / "hand")
    try:
        result = run_zappa(zappa_venv, project, "package", "production")
    finally:
        pip(zappa_venv, "uninstall", "-y", "left-pad-tool")
    assert result.returncode == 1, result.stdout + result.stderr
    printed = (result.stdout + result.stderr).replace(str(zappa_venv.path), ".venv")
    assert same_python(_without_version_check(printed), shown.text) == shown.text


@pytest.mark.e2e
def test_zappa_bad_setting_error_is_the_readmes(tmp_path: Path, zappa_venv: Venv) -> None:
    m = re.search(r"e\.g\.\n`(Error: drift-guard: [^`]*)`", README)
    assert m is not None
    settings = _readme_settings()
    settings["production"]["drift_guard"]["ignore"] = 3  # not a list
    project = _readme_zappa_project(tmp_path, settings)
    result = run_zappa(zappa_venv, project, "package", "production")
    assert result.returncode == 1, result.stdout + result.stderr
    assert m.group(1) in (result.stdout + result.stderr).splitlines()
