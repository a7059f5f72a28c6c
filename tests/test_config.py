"""[tool.drift-guard] settings: validated, with `-` and `_` spellings alike."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from drift_guard.config import Config, find_root, from_mapping, load, merge
from drift_guard.errors import DriftGuardError
from tests.helpers import run_cli


def test_both_spellings_are_accepted() -> None:
    cfg = from_mapping({"require-pins": True, "ignore": ["boto3"], "without": "docs"}, "[t]")
    assert cfg.require_pins is True
    assert cfg.ignore == ("boto3",)
    assert cfg.without_groups == ("docs",)
    assert from_mapping({"require_pins": True}, "[t]").require_pins is True


def test_relative_paths_are_relative_to_the_config_file(tmp_path) -> None:
    cfg = from_mapping(
        {"sources": ["reqs/base.txt"], "venv": ".venv"}, "[t]", base_dir=str(tmp_path)
    )
    assert cfg.sources == (str(tmp_path / "reqs/base.txt"),)
    assert cfg.venv == str(tmp_path / ".venv")


def test_lambda_options_are_kept_as_a_table() -> None:
    cfg = from_mapping({"lambda": {"max_unzipped_mb": 200}}, "[t]")
    assert cfg.lambda_ == {"max_unzipped_mb": 200}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"ignore": [1]}, "[tool.drift-guard].ignore must be a list of strings"),
        ({"require-pins": "yes"}, "[tool.drift-guard].require-pins must be true or false"),
        ({"python": 3}, "[tool.drift-guard].python must be a string"),
        ({"lambda": 250}, "[tool.drift-guard].lambda must be a table"),
        ({"sauces": []}, "unknown setting '[tool.drift-guard].sauces'; known settings: allow,"),
    ],
)
def test_bad_settings_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(DriftGuardError) as info:
        from_mapping(table, "[tool.drift-guard]", path="pyproject.toml")
    assert str(info.value).startswith(f"pyproject.toml: {message}")


def test_merge_prefers_what_is_set() -> None:
    base = Config(ignore=("a",), python="/usr/bin/python3")
    merged = merge(base, ignore=("b",), python=None, require_pins=False)
    assert merged.ignore == ("b",)
    assert merged.python == "/usr/bin/python3"


def test_overlay_replaces_only_the_keys_given() -> None:
    from drift_guard.config import overlay

    base = Config(ignore=("a",), require_pins=True, with_groups=("docs",))
    cfg = overlay(base, {"ignore": ["b"], "with": []}, "[stage]")
    assert (cfg.ignore, cfg.require_pins, cfg.with_groups) == (("b",), True, ())


# --- the project root and a monorepo's projects ---------------------------------------------


def fake_venv(path: Path, *dists: str) -> Path:
    site = path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /nowhere/bin\nversion = 3.11.7\n")
    for spec in dists:
        name, version = spec.split("==")
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return path


def test_root_is_the_nearest_directory_upward_with_a_declaration_or_config(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "pkg" / "sub" / "deeper"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "requirements.txt").write_text("")
    assert find_root(str(deep)) == str(repo)
    (repo / "pkg" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_root(str(deep)) == str(repo)  # a pyproject.toml without drift-guard's table
    (repo / "pkg" / "pyproject.toml").write_text("[tool.drift-guard]\nignore = []\n")
    assert find_root(str(deep)) == str(repo / "pkg")
    (repo / "pkg" / "sub" / "uv.lock").write_text("")
    assert find_root(str(deep)) == str(repo / "pkg" / "sub")


@pytest.mark.parametrize("text", [
    '[tool]\n"drift-guard" = { ignore = ["x"] }\n',
    'tool.drift_guard.ignore = ["x"]\n',
    '[tool."drift\\u002dguard"]\nignore = ["x"]\n',
    '[tool."\\u0064rift_guard"]\nignore = ["x"]\n',
])
def test_every_toml_spelling_of_the_table_is_found(tmp_path: Path, text: str) -> None:
    """The quick pre-check that skips parsing never misses a table TOML would find."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "pyproject.toml").write_text(text)
    assert find_root(str(repo / "pkg")) == str(repo / "pkg")
    assert load(str(repo / "pkg")).ignore == ("x",)


def test_root_is_never_above_the_git_root(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("")
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / ".git").write_text("gitdir: /elsewhere\n")  # a worktree or submodule
    assert find_root(str(repo / "src")) == str(repo / "src")


@pytest.mark.parametrize("value", ["/abs", "..", "../x", "a/../../b", "", ".", "~/x", "a\nb"])
def test_projects_must_be_directories_below_the_root(value: str) -> None:
    with pytest.raises(DriftGuardError, match="projects"):
        from_mapping({"projects": [value]}, "[tool.drift-guard]")
    assert from_mapping({"projects": ["services/api/"]}, "[t]").projects == ("services/api",)


def test_pyproject_that_is_a_fifo_is_bad_input(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pyproject.toml")
    with pytest.raises(DriftGuardError, match="pyproject.toml.*FIFO"):
        load(str(tmp_path))


def _git(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def test_run_from_a_subdirectory_checks_the_project_and_says_where(tmp_path: Path) -> None:
    _git(tmp_path)
    fake_venv(tmp_path / ".venv", "acme==1.0")
    (tmp_path / "requirements.txt").write_text("acme==1.0\nother==2.0\n")
    (tmp_path / "src" / "app").mkdir(parents=True)
    result = run_cli([], cwd=tmp_path / "src" / "app")
    assert result.returncode == 1, result.stderr
    assert "found by ./.venv" in result.stdout
    assert "other==2.0  (requirements.txt:2)" in result.stdout
    assert f"note: checked the project at {tmp_path}" in result.stdout
    # A file named on the command line is relative to where the user is.
    (tmp_path / "src" / "app" / "reqs.txt").write_text("acme==1.0\n")
    result = run_cli(["reqs.txt"], cwd=tmp_path / "src" / "app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "src/app/reqs.txt" in result.stdout


def monorepo(tmp_path: Path) -> Path:
    _git(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.drift-guard]\nprojects = ["services/api", "services/worker"]\nignore = ["tool"]\n'
    )
    api, worker = tmp_path / "services" / "api", tmp_path / "services" / "worker"
    fake_venv(api / ".venv", "acme==1.0", "tool==1.0")
    fake_venv(worker / ".venv", "acme==1.0", "extra==3.0")
    (api / "requirements.txt").write_text("acme==1.0\n")
    (worker / "requirements.txt").write_text("acme==1.0\n")
    # The worker's own config adds to the root's.
    (worker / "pyproject.toml").write_text('[tool.drift-guard]\nignore = ["tool", "extra"]\n')
    return tmp_path


def test_monorepo_gets_one_report_per_project_and_fails_if_any_drifts(tmp_path: Path) -> None:
    root = monorepo(tmp_path)
    result = run_cli([], cwd=root / "services")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("no drift") == 2
    assert result.stdout.index("[services/api]") < result.stdout.index("[services/worker]")

    (root / "services" / "worker" / "pyproject.toml").unlink()
    result = run_cli(["--format", "json"], cwd=root)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["schema"], doc["ok"]) == (1, False)
    assert [p["path"] for p in doc["projects"]] == ["services/api", "services/worker"]
    api, worker = doc["projects"]
    assert api["ok"] and api["environment"]["prefix"] == str(root / "services/api/.venv")
    assert [f["name"] for f in worker["findings"]] == ["extra"]
    assert worker["sources"][0]["path"] == "services/worker/requirements.txt"


def test_monorepo_refuses_one_python_for_all_projects(tmp_path: Path) -> None:
    root = monorepo(tmp_path)
    result = run_cli(["--venv", str(root / "services" / "api" / ".venv")], cwd=root)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "projects" in result.stderr
    (root / "services" / "worker").rename(root / "services" / "gone")
    result = run_cli([], cwd=root)
    assert result.returncode == 2 and "'services/worker' is not a directory" in result.stderr


def test_a_nul_in_a_setting_is_bad_input() -> None:
    for table in ({"python": "a\x00b"}, {"sources": ["r.txt", "x\x00"]}):
        with pytest.raises(DriftGuardError, match="NUL"):
            from_mapping(table, "[tool.drift-guard]")


def test_monorepo_project_with_its_own_venv_is_not_checked_against_anothers(
    tmp_path: Path,
) -> None:
    root = monorepo(tmp_path)
    api_venv = root / "services" / "api" / ".venv"
    result = run_cli(["--format", "json"], cwd=root, env={"VIRTUAL_ENV": str(api_venv)})
    assert result.returncode == 0, result.stdout + result.stderr
    api, worker = json.loads(result.stdout)["projects"]
    assert (api["environment"]["found_by"], api["environment"]["prefix"]) == (
        "VIRTUAL_ENV", str(api_venv))
    assert worker["environment"]["prefix"] == str(root / "services/worker/.venv")
    assert any("lies outside this project" in n for n in worker["notes"]), worker["notes"]


def test_venv_given_from_a_subdirectory_is_relative_to_it(tmp_path: Path) -> None:
    _git(tmp_path)
    fake_venv(tmp_path / ".venv", "acme==1.0")
    fake_venv(tmp_path / "src" / "env", "acme==2.0")
    (tmp_path / "requirements.txt").write_text("acme==2.0\n")
    result = run_cli(["--venv", "env"], cwd=tmp_path / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_cli(["--python", "env/bin/python"], cwd=tmp_path / "src")
    assert "src/env" in result.stdout + result.stderr
