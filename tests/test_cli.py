"""End to end, as a user runs it: real venvs, the real pip, wheels written here, the CLI as a
process. The scenarios are issue 2's "done when" list."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from drift_guard.cli import main
from tests.helpers import Venv, make_venv, pip, pip_list_freeze, run_cli, write_wheel

pytestmark = pytest.mark.e2e

PY39 = os.path.expanduser("~/.pyenv/versions/3.9.18/bin/python3.9")
PY311 = os.path.expanduser("~/.pyenv/versions/3.11.7/bin/python3.11")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("wheels")
    write_wheel(d, "Flask", "3.0.3", ["Werkzeug>=3.0", "click>=8.1"])
    write_wheel(d, "Werkzeug", "3.0.1")
    write_wheel(d, "click", "8.1.7")
    write_wheel(d, "requests", "2.32.3", ["idna<4,>=2.5"])
    write_wheel(d, "idna", "3.7")
    write_wheel(d, "rich", "13.7.1", ["markdown-it-py>=2.2.0", "pygments<3.0.0,>=2.13.0"])
    write_wheel(d, "markdown-it-py", "3.0.0", ["mdurl~=0.1"])
    write_wheel(d, "mdurl", "0.1.2")
    write_wheel(d, "Pygments", "2.18.0")
    write_wheel(d, "tomli", "2.0.1")
    write_wheel(d, "zope.interface", "6.4")
    write_wheel(d, "typing_extensions", "4.12.2")
    return d


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> tuple[Path, Venv]:
    """A project with ./.venv holding flask, requests, and odd names; requirements.txt frozen."""
    root = tmp_path_factory.mktemp("project")
    venv = make_venv(root / ".venv")
    pip(
        venv,
        "install",
        "Flask",
        "requests",
        "zope.interface",
        "typing_extensions",
        find_links=wheels,
    )
    return root, venv


def freeze_file(venv: Venv) -> str:
    return "".join(f"{n}=={v}\n" for n, v in pip_list_freeze(venv).items())


def findings(result) -> list[tuple[str, str]]:
    return [(f["kind"], f["name"]) for f in json.loads(result.stdout)["findings"]]


def test_pip_list_saved_as_requirements_checks_clean(project: tuple[Path, Venv]) -> None:
    root, venv = project
    (root / "requirements.txt").write_text(freeze_file(venv))
    result = run_cli([], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
    assert "found by ./.venv" in result.stdout


def test_one_line_removed_one_pin_added_one_version_changed(project: tuple[Path, Venv]) -> None:
    root, venv = project
    lines = freeze_file(venv).splitlines()
    lines = [ln for ln in lines if not ln.startswith("idna==")]
    lines = [ln.replace("Werkzeug==3.0.1", "Werkzeug==3.0.0") for ln in lines]
    lines.append("tabulate==0.9.0")
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")
    result = run_cli(["--format", "json"], cwd=root)
    assert result.returncode == 1, result.stderr
    assert findings(result) == [
        ("missing", "tabulate"),
        ("mismatch", "werkzeug"),
        ("undeclared", "idna"),
    ]
    doc = json.loads(result.stdout)
    assert doc["environment"]["found_by"] == "./.venv"
    assert doc["environment"]["prefix"] == str(root / ".venv")
    mismatch = doc["findings"][1]
    assert (mismatch["installed"], mismatch["declared"], mismatch["source"]) == (
        "3.0.1",
        "==3.0.0",
        "requirements.txt",
    )
    assert mismatch["line"] == lines.index("Werkzeug==3.0.0") + 1


def test_hand_installed_package_frozen_vs_top_level(tmp_path: Path, wheels: Path) -> None:
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", "Flask", find_links=wheels)
    (tmp_path / "requirements.txt").write_text(freeze_file(venv))
    (tmp_path / "requirements.in").write_text("flask\n")
    pip(venv, "install", "rich", find_links=wheels)

    frozen = run_cli(["--format", "json", "requirements.txt"], cwd=tmp_path)
    assert findings(frozen) == [
        ("undeclared", n) for n in ("markdown-it-py", "mdurl", "pygments", "rich")
    ]
    rich = json.loads(frozen.stdout)["findings"][-1]
    assert rich["dependencies"] == ["markdown-it-py", "mdurl", "pygments"]

    top = run_cli(["--format", "json", "requirements.in"], cwd=tmp_path)
    assert findings(top) == [("undeclared", "rich")]
    text = run_cli(["requirements.in"], cwd=tmp_path)
    assert "rich 13.7.1, with its dependencies markdown-it-py, mdurl, pygments" in text.stdout


@pytest.mark.skipif(not os.path.exists(PY39), reason="needs the Python 3.9 interpreter")
def test_markers_are_judged_for_the_target_python(tmp_path: Path, wheels: Path) -> None:
    venv = make_venv(tmp_path / ".venv", python=PY39)  # pip 26 no longer runs on 3.9
    pip(venv, "install", "click", find_links=wheels)
    (tmp_path / "requirements.txt").write_text(
        "click==8.1.7\n"
        "tomli==2.0.1; python_version < '3.11'\n"
        "pywin32==306; sys_platform == 'win32'\n"
    )
    on_39 = run_cli(["--format", "json"], cwd=tmp_path)
    assert json.loads(on_39.stdout)["environment"]["python_version"].startswith("3.9.")
    assert findings(on_39) == [("missing", "tomli")]
    # The same file against a 3.11 venv: tomli's marker is false there, pywin32's everywhere.
    py311 = sys.executable if sys.version_info >= (3, 11) else PY311
    venv311 = make_venv(tmp_path / "v311", python=py311, with_pip=False)
    pip(venv311, "install", "click", find_links=wheels)
    on_311 = run_cli(["--format", "json", "--venv", str(venv311.path)], cwd=tmp_path)
    assert on_311.returncode == 0, on_311.stdout


def test_extras_and_odd_names_match(tmp_path: Path, wheels: Path) -> None:
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", "zope.interface", "typing_extensions", "Pygments", find_links=wheels)
    (tmp_path / "requirements.txt").write_text(
        "Zope-Interface==6.4\ntyping-extensions==4.12.2\npygments==2.18\n"
    )
    result = run_cli([], cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_several_files_are_one_declared_set_and_ignore_works(project: tuple[Path, Venv]) -> None:
    root, venv = project
    lines = freeze_file(venv).splitlines()
    (root / "base.txt").write_text(
        "\n".join(ln for ln in lines if not ln.startswith("idna")) + "\n"
    )
    (root / "extra.txt").write_text("idna==3.7\n")
    assert run_cli(["base.txt", "extra.txt"], cwd=root).returncode == 0
    assert findings(run_cli(["--format", "json", "base.txt"], cwd=root)) == [("undeclared", "idna")]
    assert run_cli(["base.txt", "--ignore", "IDNA"], cwd=root).returncode == 0


def test_config_in_pyproject_names_sources_and_ignores(
    project: tuple[Path, Venv], tmp_path: Path
) -> None:
    _root, venv = project
    work = tmp_path / "w"
    work.mkdir()
    (work / "deps").mkdir()
    (work / "deps" / "prod.txt").write_text("flask==3.0.3\n")
    (work / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\n\n'
        "[tool.drift-guard]\n"
        'sources = ["deps/prod.txt"]\n'
        f'venv = "{venv.path}"\n'
        'ignore = ["requests", "idna", "click", "werkzeug", "zope-interface",'
        ' "typing-extensions"]\n'
    )
    result = run_cli([], cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deps/prod.txt" in result.stdout


def test_no_environment_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    env = {"PATH": os.path.dirname(shutil.which("git") or "/usr/bin")}
    result = run_cli([], cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--python" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("flask==3.0.3\nthis is not a requirement\n", "requirements.txt:2:"),
        ("-r missing.txt\n", "missing.txt"),
        ("flask=>3\n", "requirements.txt:1:"),
    ],
)
def test_malformed_requirements_exit_2_naming_file_and_line(
    project: tuple[Path, Venv], tmp_path: Path, content: str, expected: str
) -> None:
    _root, venv = project
    (tmp_path / "requirements.txt").write_text(content)
    result = run_cli(["--venv", str(venv.path)], cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_options_and_missing_files_exit_2_in_one_line(tmp_path: Path) -> None:
    for args in (["--format", "yaml"], ["nope.txt", "--venv", str(tmp_path)], ["--bogus"]):
        result = run_cli(args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_no_declaration_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    assert main([]) == 2
    assert "no declaration file" in capsys.readouterr().err


def test_python_m_and_console_script_agree(project: tuple[Path, Venv]) -> None:
    root, venv = project
    (root / "requirements.txt").write_text(freeze_file(venv))
    result = run_cli(["--quiet"], cwd=root)
    assert (result.returncode, result.stdout) == (0, "")
    script = shutil.which("drift-guard", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("drift-guard is not installed as a console script in this environment")
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    done = subprocess.run(
        [script, "--format", "json"], cwd=root, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_fix_with_json_keeps_stdout_one_json_document(tmp_path: Path, wheels: Path) -> None:
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", "click", "idna", find_links=wheels)
    (tmp_path / "requirements.txt").write_text("click==8.1.7\n")
    preview = run_cli(["--diff", "--format", "json"], cwd=tmp_path)
    assert preview.returncode == 1
    doc = json.loads(preview.stdout)
    assert doc["fix"]["written"] is False
    assert "+idna==3.7" in doc["fix"]["output"]
    assert (tmp_path / "requirements.txt").read_text() == "click==8.1.7\n"
    done = run_cli(["--fix", "--format", "json"], cwd=tmp_path)
    assert (done.returncode, json.loads(done.stdout)["fix"]["written"]) == (1, True)
    assert (tmp_path / "requirements.txt").read_text() == "click==8.1.7\nidna==3.7\n"
    assert run_cli(["--format", "json"], cwd=tmp_path).returncode == 0
