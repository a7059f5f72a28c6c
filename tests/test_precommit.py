"""The pre-commit hooks of .pre-commit-hooks.yaml, checked with the real pre-commit.

The end-to-end tests build a throw-away git copy of this checkout (the working tree may hold
uncommitted work, which must not be committed here) and use it as the hook repository at
its HEAD, as a user's `.pre-commit-config.yaml` would. Everything stays offline: pip, inside
pre-commit's hook env and its build env, installs from a wheel directory filled from the
distributions this test session already has.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional

import pytest

from tests.helpers import ROOT, Venv, make_venv, pip, write_wheel

clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is in the test extras")
yaml = pytest.importorskip("yaml")

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
CONTRACT_IDS = ("drift-guard", "drift-guard-fix", "drift-guard-system")


def _hooks() -> Dict[str, Dict[str, object]]:
    return {h["id"]: h for h in clientlib.load_manifest(str(MANIFEST))}


# --- the manifest ------------------------------------------------------------------------


def test_manifest_is_accepted_by_pre_commit_and_has_the_contract_ids() -> None:
    hooks = _hooks()
    assert set(CONTRACT_IDS) <= set(hooks)
    assert hooks["drift-guard"]["language"] == "python"
    assert hooks["drift-guard-fix"]["language"] == "python"
    # pre-commit >= 4.4 reads "system" as "unsupported"; the file itself says "system".
    assert hooks["drift-guard-system"]["language"] in ("system", "unsupported")
    raw = yaml.safe_load(MANIFEST.read_text())
    assert {h["id"]: h["language"] for h in raw}["drift-guard-system"] == "system"


def test_every_hook_runs_without_filenames_whatever_changed() -> None:
    for hook_id, hook in _hooks().items():
        assert hook["pass_filenames"] is False, hook_id
        assert hook["always_run"] is True, hook_id


def test_stage_names_are_the_current_ones_and_the_minimum_version_knows_them() -> None:
    from packaging.version import Version

    legacy = set(getattr(clientlib, "_STAGES", {"commit": 1, "push": 1, "merge-commit": 1}))
    raw = yaml.safe_load(MANIFEST.read_text())
    for hook in raw:
        assert hook["stages"], hook["id"]
        assert set(hook["stages"]) <= set(clientlib.STAGES), hook["id"]
        assert not set(hook["stages"]) & legacy, hook["id"]
        # Stage names like "pre-commit" arrived in pre-commit 3.2.0.
        assert Version(hook["minimum_pre_commit_version"]) >= Version("3.2.0"), hook["id"]


def test_fix_is_only_in_the_opt_in_fixer() -> None:
    hooks = _hooks()
    for hook_id, hook in hooks.items():
        has_fix = "--fix" in shlex.split(str(hook["entry"])) or "--fix" in hook["args"]
        assert has_fix == (hook_id == "drift-guard-fix"), hook_id
    assert "pre-push" not in hooks["drift-guard-fix"]["stages"]


def test_commit_stage_hooks_never_run_after_a_checkout() -> None:
    # Without explicit stages a hook runs in every installed hook type, and a failing
    # post-checkout hook turns `git checkout` itself into a failure.
    for hook_id in CONTRACT_IDS:
        stages = set(_hooks()[hook_id]["stages"])
        assert not stages & {"post-checkout", "post-merge", "post-rewrite"}, hook_id


def test_warn_entry_reports_but_always_exits_zero(tmp_path: Path) -> None:
    entry = shlex.split(str(_hooks()["drift-guard-warn"]["entry"]))
    assert entry[0] == "python"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRE_COMMIT": "1"}
    # An empty directory: the CLI itself exits 2 here ("no declaration file").
    result = subprocess.run([sys.executable, *entry[1:]], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0
    assert "drift-guard: error: no declaration file" in result.stderr


def test_every_hook_id_is_documented_in_the_readme() -> None:
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    undocumented = [hook_id for hook_id in _hooks() if f"id: {hook_id}" not in text
                    and f"`{hook_id}`" not in text]
    assert undocumented == []


# --- offline wheels -------------------------------------------------------------------------


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


_NOT_IN_WHEELS = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def wheel_from_installed(name: str, dest: Path) -> Optional[Path]:
    """Rebuild the wheel of an installed pure-Python distribution from its RECORD, offline.

    Returns None when `name` is not installed or is not pure Python. Scripts outside
    site-packages are left out: pip writes console scripts again from entry_points.txt.
    """
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    wheel_meta = dist.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel_meta or dist.files is None:
        return None
    project = dist.metadata["Name"].replace("-", "_").replace(".", "_")
    version = dist.version
    info = f"{project}-{version}.dist-info"
    content: Dict[str, bytes] = {}
    for file in dist.files:
        rel = file.as_posix()
        parts = rel.split("/")
        if (parts[0] == ".." or "__pycache__" in parts or rel.endswith(".pyc")
                or (parts[0].endswith(".dist-info") and parts[-1] in _NOT_IN_WHEELS)):
            continue
        if parts[0].endswith(".dist-info"):
            rel = "/".join([info, *parts[1:]])
        content[rel] = Path(str(file.locate())).read_bytes()
    record = [f"{p},{_hash(d)},{len(d)}" for p, d in content.items()] + [f"{info}/RECORD,,"]
    content[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{project}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in content.items():
            zf.writestr(p, d)
    return path


def _bundled_setuptools(dest: Path) -> List[Path]:
    """The setuptools wheels virtualenv (a pre-commit dependency) ships for seeding."""
    try:
        import virtualenv.seed.wheels.embed as embed
    except ImportError:
        return []
    found = []
    for wheel in Path(embed.__file__).parent.glob("setuptools-*.whl"):
        found.append(Path(shutil.copy2(wheel, dest)))
    return found


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels for everything pip needs offline: drift-guard's dependencies and the build
    backend pyproject.toml names."""
    dest = tmp_path_factory.mktemp("wheelhouse")
    assert wheel_from_installed("packaging", dest) is not None
    if sys.version_info < (3, 11):
        assert wheel_from_installed("tomli", dest) is not None
    # pyproject.toml asks for setuptools>=68; the session's own may be older (Python 3.11's
    # ensurepip ships 65), virtualenv's bundled one is recent.
    wheel_from_installed("setuptools", dest)
    _bundled_setuptools(dest)
    assert list(dest.glob("setuptools-*.whl"))
    return dest


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's dependency and the tool somebody installs by hand."""
    dest = tmp_path_factory.mktemp("packages")
    write_wheel(dest, "acme-http", "1.2.0")
    write_wheel(dest, "acme-cli", "0.3.0")
    return dest


# --- a sandbox for git and pre-commit --------------------------------------------------------


def _clean_path() -> str:
    """PATH without any virtualenv's bin directory: nothing is activated."""
    keep = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and not os.path.isfile(os.path.join(os.path.dirname(p.rstrip("/")), "pyvenv.cfg"))]
    return os.pathsep.join(keep)


class Sandbox(NamedTuple):
    env: Dict[str, str]
    wheelhouse: Path
    packages: Path

    def run(self, args: Iterable[str], cwd: Path, check: bool = True,
            extra: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        env.update(extra or {})
        result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{list(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def git(self, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(["git", *args], cwd, check=check)

    def pre_commit(self, cwd: Path, *args: str, check: bool = False,
                   extra: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "pre_commit", *args], cwd, check=check, extra=extra)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, packages: Path) -> Sandbox:
    base = tmp_path_factory.mktemp("sandbox")
    (base / "home").mkdir()
    env = {
        "HOME": str(base / "home"),
        "PATH": _clean_path(),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "TMPDIR": str(base),
        # One hook env for the whole module: built once, like a developer's warm cache.
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "VIRTUALENV_OVERRIDE_APP_DATA": str(base / "virtualenv-app-data"),
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
    }
    return Sandbox(env, wheelhouse, packages)


_PROJECT_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "setup.py",
                  "setup.cfg", "MANIFEST.in", "LICENSE", "LICENSE.txt", "LICENSE.md")


class HookRepo(NamedTuple):
    path: Path
    rev: str


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> HookRepo:
    """A committed copy of this checkout's package files, to name as `repo:` at `rev:`."""
    path = tmp_path_factory.mktemp("drift-guard-hook-repo")
    shutil.copytree(ROOT / "drift_guard", path / "drift_guard",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in _PROJECT_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, path / name)
    sandbox.git(path, "init", "-q")
    sandbox.git(path, "add", "-A")
    sandbox.git(path, "commit", "-q", "-m", "drift-guard under test")
    rev = sandbox.git(path, "rev-parse", "HEAD").stdout.strip()
    return HookRepo(path, rev)


@pytest.fixture(scope="module")
def drift_guard_wheel(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox,
                      hook_repo: HookRepo) -> Path:
    """drift-guard built by its real build backend from the hook repository, offline."""
    dest = tmp_path_factory.mktemp("drift-guard-wheel")
    sandbox.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest),
                 str(hook_repo.path)], cwd=dest)
    (wheel,) = dest.glob("drift_guard-*.whl")
    return wheel


class Project(NamedTuple):
    path: Path
    venv: Venv


def new_project(tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo, hook_ids: Iterable[str],
                venv_path: Optional[Path] = None) -> Project:
    """A user's project: a git repository, requirements.txt, a real venv installed from it
    (./.venv unless `venv_path` says otherwise; never activated), and a pre-commit config
    naming `hook_ids`. Everything is committed."""
    path = tmp_path / "project"
    path.mkdir()
    sandbox.git(path, "init", "-q")
    (path / "requirements.txt").write_text("acme-http==1.2.0\n")
    (path / ".gitignore").write_text(".venv/\n")
    config = {"repos": [{"repo": str(hook_repo.path), "rev": hook_repo.rev,
                         "hooks": [{"id": hook_id} for hook_id in hook_ids]}]}
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    venv = make_venv(venv_path or path / ".venv")
    pip(venv, "install", "-r", str(path / "requirements.txt"), find_links=sandbox.packages)
    sandbox.git(path, "add", "-A")
    sandbox.git(path, "commit", "-q", "-m", "initial")
    return Project(path, venv)


@pytest.fixture(autouse=True)
def _no_pythonpath(monkeypatch: pytest.MonkeyPatch) -> None:
    # A PYTHONPATH naming this checkout (and its drift_guard.egg-info) would reach the project
    # venv's interpreter through pip, and pip would take drift-guard as installed there.
    monkeypatch.delenv("PYTHONPATH", raising=False)


def install_by_hand(project: Project, sandbox: Sandbox, *names: str) -> None:
    pip(project.venv, "install", *names, find_links=sandbox.packages)


def head(sandbox: Sandbox, project: Project) -> str:
    return sandbox.git(project.path, "rev-parse", "HEAD").stdout.strip()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# --- end to end ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_run_passes_on_a_clean_project_and_fails_naming_a_hand_installed_package(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard"])

    clean = sandbox.pre_commit(project.path, "run", "--all-files")
    assert clean.returncode == 0, output(clean)
    assert re.search(r"^drift-guard\.+Passed$", clean.stdout, re.MULTILINE), output(clean)

    install_by_hand(project, sandbox, "acme-cli")
    drift = sandbox.pre_commit(project.path, "run", "--all-files")
    text = output(drift)
    assert drift.returncode == 1, text
    assert "- exit code: 1" in text, text
    assert "acme-cli 0.3.0" in text, text
    # The project's .venv, found although it is not activated -- not the hook's own env.
    assert "found by ./.venv" in text, text
    assert "py_env-" not in text
    # Short: what drifted, where, and the command that fixes it.
    assert "requirements.txt" in text, text
    assert "drift-guard --fix" in text, text


@pytest.mark.e2e
def test_commit_is_refused_while_a_hand_installed_package_is_unrecorded(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard"])
    sandbox.pre_commit(project.path, "install", check=True)
    before = head(sandbox, project)

    install_by_hand(project, sandbox, "acme-cli")
    (project.path / "app.py").write_text("import acme_cli\n")
    sandbox.git(project.path, "add", "app.py")
    refused = sandbox.git(project.path, "commit", "-m", "use acme-cli", check=False)
    assert refused.returncode != 0, output(refused)
    assert "acme-cli" in output(refused), output(refused)
    assert head(sandbox, project) == before

    with (project.path / "requirements.txt").open("a") as f:
        f.write("acme-cli==0.3.0\n")
    sandbox.git(project.path, "add", "requirements.txt")
    accepted = sandbox.git(project.path, "commit", "-m", "use acme-cli", check=False)
    assert accepted.returncode == 0, output(accepted)
    assert head(sandbox, project) != before
    committed = sandbox.git(project.path, "show", "--name-only", "--format=", "HEAD").stdout
    assert committed.split() == ["app.py", "requirements.txt"]


@pytest.mark.e2e
def test_hook_finds_a_venv_activated_outside_the_repository_through_path(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    elsewhere = tmp_path / "envs" / "project-env"
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard"], venv_path=elsewhere)
    assert not (project.path / ".venv").exists()
    activated = {"VIRTUAL_ENV": str(elsewhere),
                 "PATH": f"{elsewhere / 'bin'}{os.pathsep}{sandbox.env['PATH']}"}

    clean = sandbox.pre_commit(project.path, "run", "--all-files", extra=activated)
    assert clean.returncode == 0, output(clean)

    install_by_hand(project, sandbox, "acme-cli")
    drift = sandbox.pre_commit(project.path, "run", "--all-files", extra=activated)
    assert drift.returncode == 1, output(drift)
    assert "acme-cli 0.3.0" in output(drift), output(drift)
    assert "found by PATH" in output(drift), output(drift)


@pytest.mark.e2e
def test_fix_hook_stops_the_first_commit_with_requirements_updated_and_passes_the_second(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard-fix"])
    sandbox.pre_commit(project.path, "install", check=True)
    before = head(sandbox, project)
    requirements = project.path / "requirements.txt"

    install_by_hand(project, sandbox, "acme-cli")
    (project.path / "app.py").write_text("import acme_cli\n")
    sandbox.git(project.path, "add", "app.py")
    first = sandbox.git(project.path, "commit", "-m", "use acme-cli", check=False)
    assert first.returncode != 0, output(first)
    assert head(sandbox, project) == before
    assert "files were modified by this hook" in output(first), output(first)
    # The declared line kept as it was, the hand-installed tool recorded with its version.
    assert sorted(requirements.read_text().splitlines()) == ["acme-cli==0.3.0", "acme-http==1.2.0"]
    # Left for review: changed in the work tree, not staged.
    unstaged = sandbox.git(project.path, "diff", "--name-only").stdout.split()
    assert unstaged == ["requirements.txt"]

    sandbox.git(project.path, "add", "requirements.txt")
    second = sandbox.git(project.path, "commit", "-m", "use acme-cli", check=False)
    assert second.returncode == 0, output(second)
    committed = sandbox.git(project.path, "show", "--name-only", "--format=", "HEAD").stdout
    assert committed.split() == ["app.py", "requirements.txt"]


@pytest.mark.e2e
def test_fix_hook_run_by_hand_records_what_the_check_hook_reported(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    # The README recipe: check on every commit, fix on request.
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard"])
    config = yaml.safe_load((project.path / ".pre-commit-config.yaml").read_text())
    config["repos"][0]["hooks"].append({"id": "drift-guard-fix", "stages": ["manual"]})
    (project.path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    sandbox.git(project.path, "add", ".pre-commit-config.yaml")
    install_by_hand(project, sandbox, "acme-cli")

    check = sandbox.pre_commit(project.path, "run")
    assert check.returncode == 1, output(check)
    assert "drift-guard (fix requirements)" not in check.stdout

    fix = sandbox.pre_commit(project.path, "run", "drift-guard-fix", "--hook-stage", "manual")
    assert fix.returncode == 1, output(fix)
    assert "acme-cli==0.3.0" in (project.path / "requirements.txt").read_text()
    sandbox.git(project.path, "add", "requirements.txt")
    again = sandbox.pre_commit(project.path, "run")
    assert again.returncode == 0, output(again)


@pytest.mark.e2e
def test_system_hook_runs_the_drift_guard_installed_in_the_project_env(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo, drift_guard_wheel: Path
) -> None:
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard-system"])
    pip(project.venv, "install", str(drift_guard_wheel), find_links=sandbox.wheelhouse)
    activated = {"VIRTUAL_ENV": str(project.venv.path),
                 "PATH": f"{project.venv.bin}{os.pathsep}{sandbox.env['PATH']}"}

    # drift-guard and what it needs are tools, not undeclared dependencies.
    clean = sandbox.pre_commit(project.path, "run", "--all-files", extra=activated)
    assert clean.returncode == 0, output(clean)

    install_by_hand(project, sandbox, "acme-cli")
    drift = sandbox.pre_commit(project.path, "run", "--all-files", extra=activated)
    assert drift.returncode == 1, output(drift)
    assert "acme-cli 0.3.0" in output(drift), output(drift)
    assert "found by VIRTUAL_ENV" in output(drift), output(drift)

    # Not activated, `drift-guard` is not on PATH: pre-commit says so (the README's caveat).
    bare = sandbox.pre_commit(project.path, "run", "--all-files")
    assert bare.returncode == 1
    assert "Executable `drift-guard` not found" in output(bare), output(bare)


@pytest.mark.e2e
def test_system_hook_checks_an_activated_venv_that_lives_outside_the_repository(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo, drift_guard_wheel: Path
) -> None:
    # virtualenvwrapper, pyenv-virtualenv: the venv is elsewhere, drift-guard runs from it,
    # and VIRTUAL_ENV is the one thing that says which env is the project's.
    elsewhere = tmp_path / "virtualenvs" / "project"
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard-system"], venv_path=elsewhere)
    pip(project.venv, "install", str(drift_guard_wheel), find_links=sandbox.wheelhouse)
    activated = {"VIRTUAL_ENV": str(elsewhere),
                 "PATH": f"{project.venv.bin}{os.pathsep}{sandbox.env['PATH']}"}
    install_by_hand(project, sandbox, "acme-cli")

    drift = sandbox.pre_commit(project.path, "run", "--all-files", extra=activated)
    assert drift.returncode == 1, output(drift)
    assert "acme-cli 0.3.0" in output(drift), output(drift)
    assert "found by VIRTUAL_ENV" in output(drift), output(drift)


@pytest.mark.e2e
def test_warn_hook_reports_drift_after_a_branch_switch_without_failing_it(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    project = new_project(tmp_path, sandbox, hook_repo, ["drift-guard", "drift-guard-warn"])
    sandbox.pre_commit(project.path, "install", "--hook-type", "pre-commit",
                       "--hook-type", "post-checkout", check=True)
    sandbox.git(project.path, "checkout", "-q", "-b", "feature")
    (project.path / "requirements.txt").write_text("acme-http==1.2.0\nacme-cli==0.3.0\n")
    sandbox.git(project.path, "commit", "-q", "--no-verify", "-am", "needs acme-cli")

    # Back to a branch that knows nothing of acme-cli, then onto one that needs it.
    sandbox.git(project.path, "checkout", "-q", "-")
    switched = sandbox.git(project.path, "checkout", "feature", check=False)
    text = output(switched)
    assert switched.returncode == 0, text
    assert "drift-guard (warn after checkout/merge)" in text, text
    assert "missing:" in text, text
    assert "acme-cli==0.3.0" in text, text
    # The commit-stage hook stays out of post-checkout.
    assert not any(line.startswith("drift-guard.") for line in text.splitlines())


@pytest.mark.e2e
def test_monorepo_root_config_checks_each_project_with_its_own_venv(
    tmp_path: Path, sandbox: Sandbox, hook_repo: HookRepo
) -> None:
    root = tmp_path / "mono"
    root.mkdir()
    sandbox.git(root, "init", "-q")
    (root / "pyproject.toml").write_text(
        '[tool.drift-guard]\nprojects = ["services/api", "services/worker"]\n'
    )
    (root / ".gitignore").write_text(".venv/\n")
    config = {"repos": [{"repo": str(hook_repo.path), "rev": hook_repo.rev,
                         "hooks": [{"id": "drift-guard"}]}]}
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    venvs = {}
    for name in ("api", "worker"):
        project = root / "services" / name
        project.mkdir(parents=True)
        (project / "requirements.txt").write_text("acme-http==1.2.0\n")
        venvs[name] = make_venv(project / ".venv")
        pip(venvs[name], "install", "acme-http==1.2.0", find_links=sandbox.packages)
    sandbox.git(root, "add", "-A")
    sandbox.git(root, "commit", "-q", "-m", "initial")

    clean = sandbox.pre_commit(root, "run", "--all-files")
    assert clean.returncode == 0, output(clean)

    pip(venvs["worker"], "install", "acme-cli", find_links=sandbox.packages)
    # Started from inside one project: pre-commit runs hooks at the root, which lists both.
    drift = sandbox.pre_commit(root / "services" / "api", "run", "--all-files")
    text = output(drift)
    assert drift.returncode == 1, text
    assert "[services/api]" in text and "[services/worker]" in text, text
    worker = text[text.index("[services/worker]"):]
    assert "acme-cli 0.3.0" in worker, text
    assert "services/worker/.venv" in worker, text
    assert "acme-cli" not in text[:text.index("[services/worker]")], text
