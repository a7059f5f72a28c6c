"""The import ranking end to end: real venvs holding real distributions (wheels written in the
session) whose import names differ from their names, the real CLI, the real pre-commit, and
the Zappa callback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from drift_guard._names import canonical
from drift_guard.environment import find_environment
from drift_guard.imports.providers import Providers
from drift_guard.installed import list_installed
from tests.helpers import ROOT, Venv, make_venv, pip, run_cli, write_wheel

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("wheels")
    write_wheel(dest, "Flask", "3.0.3")
    write_wheel(dest, "PyYAML-like", "6.0.1", modules=["yaml", "_yaml"])
    write_wheel(dest, "beautifulsoup4-like", "4.12.3", modules=["bs4"])
    write_wheel(dest, "python-dateutil-like", "2.9.0", modules=["dateutil"])
    write_wheel(dest, "rich", "13.7.1", requires=["markdown-it-like"])
    write_wheel(dest, "markdown-it-like", "3.0.0", modules=["markdown_it"])
    write_wheel(dest, "tabulate", "0.9.0")
    write_wheel(dest, "six", "1.16.0", modules=[], files={"six.py": "PY3 = True\n"})
    # A namespace package shared by two distributions (no zope/__init__.py).
    write_wheel(dest, "zope.interface", "6.0", modules=[],
                files={"zope/interface/__init__.py": "", "zope/interface/declarations.py": ""})
    write_wheel(dest, "zope.event", "5.0", modules=[], files={"zope/event/__init__.py": ""})
    return dest


@pytest.fixture(scope="module")
def editable_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A setuptools project installed editable (PEP 660) whose import name differs."""
    src = tmp_path_factory.mktemp("editable")
    (src / "src" / "acme_tools").mkdir(parents=True)
    (src / "src" / "acme_tools" / "__init__.py").write_text("VALUE = 1\n")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "acme-toolkit"\nversion = "0.1"\n'
        "[tool.setuptools.packages.find]\nwhere = [\"src\"]\n"
    )
    return src


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheels: Path, editable_src: Path) -> Venv:
    v = make_venv(tmp_path_factory.mktemp("venv") / ".venv")
    pip(v, "install", "Flask", "PyYAML-like", "beautifulsoup4-like", "python-dateutil-like",
        "six", "zope.interface", "zope.event", find_links=wheels)
    # A setuptools recent enough to build an editable wheel by itself (PEP 660, no `wheel`),
    # repacked offline from the test session's own.
    pc = pytest.importorskip("tests.test_precommit")
    backend = tmp_path_factory.mktemp("backend")
    if pc.wheel_from_installed("setuptools", backend) is not None:
        pip(v, "install", "--upgrade", "setuptools", find_links=backend)
        pip(v, "install", "--no-build-isolation", "-e", str(editable_src))
    return v


def packages_distributions(v: Venv) -> Dict[str, List[str]]:
    """importlib.metadata.packages_distributions() as the target venv's own Python gives it."""
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps(m.packages_distributions()))")
    env = {k: val for k, val in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(v.python), "-c", code], check=True, capture_output=True, cwd=v.path,
                         text=True, env=env).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_providers_agree_with_packages_distributions(venv: Venv) -> None:
    env = find_environment(None, str(venv.path), cwd=str(venv.path.parent))
    installed = list_installed(env)
    providers = Providers(installed)
    theirs = packages_distributions(venv)
    for module, dists in theirs.items():
        assert {canonical(d) for d in dists} <= providers.top.get(module, set()), module
    assert providers.providers("yaml") == {"pyyaml-like"}
    assert providers.providers("bs4") == {"beautifulsoup4-like"}
    assert providers.providers("dateutil.parser") == {"python-dateutil-like"}
    assert providers.providers("six") == {"six"}
    # The namespace: the deeper name decides.
    assert providers.providers("zope.interface.declarations") == {"zope-interface"}
    assert providers.providers("zope", ("event",)) == {"zope-event"}
    assert providers.providers("zope") == {"zope-interface", "zope-event"}
    if "acme-toolkit" in installed:
        assert installed["acme-toolkit"].editable
        assert providers.providers("acme_tools") == {"acme-toolkit"}


def test_editable_install_through_a_pth_path_without_top_level(tmp_path: Path, venv: Venv,
                                                               wheels: Path) -> None:
    """An editable install the way hatchling writes one: a .pth naming the source directory,
    no top_level.txt."""
    src = tmp_path / "srcdir"
    (src / "hatch_pkg").mkdir(parents=True)
    (src / "hatch_pkg" / "__init__.py").write_text("")
    v = make_venv(tmp_path / "v2")
    dest = tmp_path / "w"
    write_wheel(dest, "hatch-project", "1.0", modules=[], files={"_hatch_project.pth": f"{src}\n"})
    pip(v, "install", "hatch-project", find_links=dest)
    (info,) = v.site_packages().glob("hatch_project-1.0.dist-info")
    (info / "top_level.txt").unlink()
    (info / "direct_url.json").write_text(json.dumps(
        {"url": src.as_uri(), "dir_info": {"editable": True}}))
    env = find_environment(None, str(v.path), cwd=str(tmp_path))
    providers = Providers(list_installed(env))
    assert providers.providers("hatch_pkg") == {"hatch-project"}
    assert "hatch_pkg" in packages_distributions(v) or True  # importlib may not know it


# --- the user's story ---------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    env.pop("GIT_INDEX_FILE", None)
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"XDG_CACHE_HOME": str(project.parent / "cache"), "PYTHONPATH": str(ROOT)}
    for name in ("PRE_COMMIT", "GIT_INDEX_FILE"):
        os.environ.pop(name, None)
    return run_cli(list(args), project, env=env)


@pytest.fixture
def flask_project(tmp_path: Path, wheels: Path) -> Path:
    project = tmp_path / "shop"
    project.mkdir()
    v = make_venv(project / ".venv")
    pip(v, "install", "Flask==3.0.3", "PyYAML-like==6.0.1", find_links=wheels)
    (project / "requirements.txt").write_text("flask==3.0.3\npyyaml-like==6.0.1\n")
    (project / ".gitignore").write_text(".venv/\n")
    (project / "app.py").write_text(
        "import yaml\nfrom flask import Flask\n\napp = Flask(__name__)\n"
    )
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "initial")
    return project


def test_done_when_scenario(flask_project: Path, wheels: Path, tmp_path: Path) -> None:
    project = flask_project
    v = Venv(project / ".venv", project / ".venv" / "bin" / "python")
    # `import yaml` with PyYAML installed and declared: clean.
    clean = cli(project)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    # pip install rich (and tabulate, which nothing imports), then commit app.py importing rich.
    pip(v, "install", "rich", "tabulate", find_links=wheels)
    (project / "app.py").write_text(
        "import yaml\nfrom flask import Flask\nimport rich\n\napp = Flask(__name__)\n"
    )
    git(project, "add", "app.py")
    result = cli(project)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    findings = [line for line in lines if line.startswith("  ") and not line.startswith("      ")]
    assert findings[0].startswith("  rich 13.7.1"), result.stdout
    assert "imported by app.py:3" in findings[0]
    assert "the deploy fails without it" in lines[1]
    # Reported after, as today: rich's own dependency (the file is frozen) and tabulate.
    assert findings[1].startswith("  markdown-it-like 3.0.0 (needed by rich)")
    assert findings[2].startswith("  tabulate 0.9.0") and "imported" not in findings[2]
    doc = json.loads(cli(project, "--format", "json").stdout)
    assert [(f["name"], f["imported_by"]) for f in doc["findings"]] == [
        ("rich", ["app.py:3"]), ("markdown-it-like", []), ("tabulate", [])]
    github = cli(project, "--format", "github").stdout
    assert github.startswith("::error file=app.py,line=3,"), github

    # Only imported ones fail, when configured so.
    (project / "pyproject.toml").write_text('[tool.drift-guard]\nundeclared = "imported"\n')
    assert cli(project).returncode == 1
    (project / "app.py").write_text("import yaml\nfrom flask import Flask\n")
    relaxed = cli(project)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "rich 13.7.1" in relaxed.stdout and "does not fail the run" in relaxed.stdout
    (project / "pyproject.toml").unlink()

    # The same install with nothing importing rich: reported after, as today.
    plain = cli(project)
    assert plain.returncode == 1
    assert "imported by" not in plain.stdout and "rich 13.7.1" in plain.stdout

    # An import satisfied only outside the environment (user site-packages, PYTHONPATH).
    elsewhere = tmp_path / "user-site"
    elsewhere.mkdir()
    (elsewhere / "helperlib.py").write_text("X = 1\n")
    (project / "app.py").write_text("import yaml\nimport helperlib\n")
    works = subprocess.run([str(v.python), "-c", "import helperlib"], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(elsewhere)})
    assert works.returncode == 0  # it works here...
    pip(v, "uninstall", "-y", "rich", "tabulate", "markdown-it-like")
    assert cli(project).returncode == 0  # ...not looked for by default
    found = cli(project, "--unresolved", "--format", "json")
    assert found.returncode == 1, found.stdout + found.stderr
    (unresolved,) = json.loads(found.stdout)["findings"]
    assert unresolved["kind"] == "unresolved" and unresolved["name"] == "helperlib"
    assert unresolved["imported_by"] == ["app.py:2"]


def test_clean_environment_reads_no_code(flask_project: Path) -> None:
    """No undeclared finding, unresolved not asked for: the code is not even listed."""
    cache = flask_project.parent / "cache"
    assert cli(flask_project).returncode == 0
    assert not list(cache.glob("drift-guard/imports-*"))


def test_imports_under_guards_never_rank(flask_project: Path, wheels: Path) -> None:
    v = Venv(flask_project / ".venv", flask_project / ".venv" / "bin" / "python")
    pip(v, "install", "rich", "six", "python-dateutil-like", find_links=wheels)
    (flask_project / "app.py").write_text(
        "import sys\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import rich\n"
        "try:\n    import six\nexcept ImportError:\n    six = None\n"
        "if sys.version_info < (3, 0):\n    import dateutil\n"
    )
    doc = json.loads(cli(flask_project, "--format", "json").stdout)
    assert {f["name"]: f["imported_by"] for f in doc["findings"]} == {
        "markdown-it-like": [], "python-dateutil-like": [], "rich": [], "six": []}


# --- pre-commit ---------------------------------------------------------------------------------


def test_pre_commit_fails_on_the_staged_import_only(tmp_path: Path, wheels: Path) -> None:
    pc = pytest.importorskip("tests.test_precommit")
    wheelhouse_dir = tmp_path / "wheelhouse"
    assert pc.wheel_from_installed("packaging", wheelhouse_dir) is not None
    if sys.version_info < (3, 11):
        pc.wheel_from_installed("tomli", wheelhouse_dir)
    pc.wheel_from_installed("setuptools", wheelhouse_dir)
    pc._bundled_setuptools(wheelhouse_dir)
    sandbox_base = tmp_path / "sb"
    (sandbox_base / "home").mkdir(parents=True)
    env = {
        "HOME": str(sandbox_base / "home"), "PATH": pc._clean_path(), "LANG": "C.UTF-8",
        "TERM": "dumb", "NO_COLOR": "1", "TMPDIR": str(sandbox_base),
        "PRE_COMMIT_HOME": str(sandbox_base / "pch"), "PRE_COMMIT_COLOR": "never",
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse_dir),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
        "VIRTUALENV_OVERRIDE_APP_DATA": str(sandbox_base / "vad"),
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid", "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
        "XDG_CACHE_HOME": str(sandbox_base / "cache"),
    }
    packages = tmp_path / "packages"
    write_wheel(packages, "acme-http", "1.2.0")
    write_wheel(packages, "acme-cli", "0.3.0")
    sandbox = pc.Sandbox(env, wheelhouse_dir, packages)
    hook_path = tmp_path / "hook-repo"
    shutil.copytree(ROOT / "drift_guard", hook_path / "drift_guard",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in pc._PROJECT_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, hook_path / name)
    sandbox.git(hook_path, "init", "-q")
    sandbox.git(hook_path, "add", "-A")
    sandbox.git(hook_path, "commit", "-q", "-m", "drift-guard under test")
    rev = sandbox.git(hook_path, "rev-parse", "HEAD").stdout.strip()
    hook = pc.HookRepo(hook_path, rev)
    project = pc.new_project(tmp_path, sandbox, hook, ["drift-guard"])
    (project.path / "requirements.txt").write_text("acme-http==1.2.0\n")
    pc.install_by_hand(project, sandbox, "acme-cli")
    # Declared nothing new, and the committed code does not import acme-cli: the hook fails
    # as today, without an importing line.
    sandbox.pre_commit(project.path, "install", check=True)
    (project.path / "lib.py").write_text("X = 1\n")
    sandbox.git(project.path, "add", "lib.py")
    first = sandbox.git(project.path, "commit", "-m", "lib", check=False)
    assert first.returncode != 0
    assert "acme-cli" in pc.output(first) and "imported by" not in pc.output(first)
    # Only the staged file adds the import: the hook names it.
    (project.path / "app.py").write_text("import os\nimport acme_cli\n")
    sandbox.git(project.path, "add", "app.py")
    refused = sandbox.git(project.path, "commit", "-m", "use acme-cli", check=False)
    text = pc.output(refused)
    assert refused.returncode != 0, text
    assert "acme-cli 0.3.0" in text and "imported by app.py:2" in text, text
    assert "the deploy fails without it" in text, text


# --- Zappa --------------------------------------------------------------------------------------


class _FakeZappa:
    def __init__(self, venv: Path) -> None:
        self.venv = venv

    def get_current_venv(self) -> Path:
        return self.venv


class _FakeCli:
    """The ZappaCLI attributes the settings callback reads."""

    def __init__(self, venv: Path) -> None:
        self.command = "package"
        self.api_stage = "dev"
        self.vargs: Dict[str, Any] = {"zip": None, "docker_image_uri": None,
                                      "no_upload": False, "settings_file": None}
        self.stage_config: Dict[str, Any] = {"app_function": "app.app"}
        self.runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        self.architecture = "x86_64"
        self.zip_path: Optional[str] = None
        self.handler_path: Optional[str] = None
        self.zappa = _FakeZappa(venv)


def test_zappa_callback_names_the_handlers_import(flask_project: Path, wheels: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    zappa = pytest.importorskip("drift_guard.zappa")
    click = pytest.importorskip("click")
    v = Venv(flask_project / ".venv", flask_project / ".venv" / "bin" / "python")
    pip(v, "install", "rich", find_links=wheels)
    (flask_project / "app.py").write_text("from flask import Flask\nimport rich\napp = Flask('x')\n")
    git(flask_project, "add", "app.py")
    monkeypatch.chdir(flask_project)
    monkeypatch.setenv("XDG_CACHE_HOME", str(flask_project.parent / "cache"))
    for name in ("PRE_COMMIT", "GIT_INDEX_FILE", "VIRTUAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    cli_obj = _FakeCli(v.path)
    outcome = zappa.evaluate(cli_obj, phase="settings")
    assert outcome.report is not None
    (rich,) = [f for f in outcome.report.findings if f.name == "rich"]
    assert rich.imported_by == ("app.py:2",)
    with pytest.raises(click.ClickException) as raised:
        zappa.check(cli_obj)
    message = raised.value.message
    assert "imported by app.py:2" in message and "the deploy fails without it" in message
