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
from tests.helpers import (
    Venv,
    make_venv,
    pip,
    pip_check,
    pip_list_freeze,
    run_cli,
    write_wheel,
)

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


# --- issue 10: a verdict you can act on ------------------------------------------------------


@pytest.fixture(scope="module")
def flask_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("flask-wheels")
    write_wheel(d, "Flask", "3.1.3", ["blinker>=1.9.0", "Werkzeug>=3.1", "itsdangerous>=2.2"])
    write_wheel(d, "blinker", "1.8.2")
    write_wheel(d, "blinker", "1.9.0")
    write_wheel(d, "Werkzeug", "3.1.3", ["MarkupSafe>=2.1.1"])
    write_wheel(d, "MarkupSafe", "3.0.2")
    write_wheel(d, "itsdangerous", "2.2.0")
    write_wheel(
        d, "requests", "2.34.2", ["urllib3<3,>=1.21.1", "idna<4,>=2.5"],
        extras={"socks": ["PySocks!=1.5.7,>=1.5.6"]},
    )
    write_wheel(d, "urllib3", "2.2.3")
    write_wheel(d, "idna", "3.10")
    write_wheel(d, "PySocks", "1.7.1")
    write_wheel(d, "tomli", "2.0.1")
    write_wheel(d, "zappa", "0.63.0", ["kappa>=0.6", "urllib3<3", "requests>=2.20"])
    write_wheel(d, "kappa", "0.6.0")
    return d


def _app(tmp_path: Path, wheels: Path, *names: str) -> Venv:
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", *(names or ("Flask", "requests")), find_links=wheels)
    return venv


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("breakage", ["too-old", "uninstalled", "both"])
def test_broken_environment_is_reported_as_pip_check_reports_it(
    tmp_path: Path, flask_wheels: Path, breakage: str
) -> None:
    venv = _app(tmp_path, flask_wheels)
    requirements = freeze_file(venv)
    (tmp_path / "requirements.txt").write_text(requirements)
    if breakage in ("too-old", "both"):
        pip(venv, "install", "--no-deps", "blinker==1.8.2", find_links=flask_wheels)
    if breakage in ("uninstalled", "both"):
        pip(venv, "uninstall", "-y", "idna")
    expected = pip_check(venv)
    assert expected, "the environment should be broken"

    doc = _json(run_cli(["--format", "json"], cwd=tmp_path))
    broken = [f for f in doc["findings"] if f["kind"] == "broken"]
    assert {(r, f["name"]) for f in broken for r in f["required_by"]} == expected
    assert doc["findings"][: len(broken)] == broken, "broken findings come first"
    by_name = {f["name"]: f for f in broken}
    if "blinker" in by_name:
        assert (by_name["blinker"]["installed"], by_name["blinker"]["declared"]) == (
            "1.8.2", ">=1.9.0"
        )
        text = run_cli([], cwd=tmp_path)
        assert "Flask 3.1.3 requires blinker>=1.9.0; installed 1.8.2" in text.stdout
    if "idna" in by_name:
        assert by_name["idna"]["installed"] is None
    for fmt in ("text", "json", "github", "markdown"):
        result = run_cli(["--format", fmt], cwd=tmp_path)
        assert result.returncode == 1, (fmt, result.stdout, result.stderr)
        assert "blinker" in result.stdout or "idna" in result.stdout

    # Nothing is recorded from an environment that does not satisfy itself.
    for option in ("--fix", "--diff"):
        refused = run_cli([option], cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "does not satisfy itself" in refused.stderr
    assert (tmp_path / "requirements.txt").read_text() == requirements


def test_clean_environment_agrees_with_pip_check_too(tmp_path: Path, flask_wheels: Path) -> None:
    venv = _app(tmp_path, flask_wheels)
    (tmp_path / "requirements.txt").write_text(freeze_file(venv))
    assert pip_check(venv) == set()
    assert run_cli([], cwd=tmp_path).returncode == 0


def test_hand_pinned_file_is_frozen_by_guess_top_level_when_said(
    tmp_path: Path, flask_wheels: Path
) -> None:
    _app(tmp_path, flask_wheels)
    (tmp_path / "requirements.txt").write_text("flask==3.1.3\nrequests==2.34.2\n")
    doc = _json(run_cli(["--format", "json"], cwd=tmp_path))
    assert {f["kind"] for f in doc["findings"]} == {"undeclared"}
    for f in doc["findings"]:
        # Each is needed by a declared package: never offered for uninstall.
        assert f["required_by"], f
        assert "uninstall" not in f["hint"], f
        assert "uninstall" not in f
    assert any("read as frozen" in n and "--top-level requirements.txt" in n for n in doc["notes"])
    text = run_cli([], cwd=tmp_path).stdout
    assert "blinker 1.9.0 (needed by flask)" in text

    said = run_cli(["--top-level", "requirements.txt"], cwd=tmp_path)
    assert said.returncode == 0, said.stdout + said.stderr
    (tmp_path / "pyproject.toml").write_text(
        '[tool.drift-guard]\ntop-level = ["requirements.txt"]\n'
    )
    assert run_cli([], cwd=tmp_path).returncode == 0


def test_top_level_in_file_stays_top_level_after_require_pins_fix(
    tmp_path: Path, flask_wheels: Path
) -> None:
    _app(tmp_path, flask_wheels)
    (tmp_path / "requirements.in").write_text("flask\nrequests\n")
    assert run_cli(["requirements.in"], cwd=tmp_path).returncode == 0
    fixed = run_cli(["requirements.in", "--require-pins", "--fix"], cwd=tmp_path)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert (tmp_path / "requirements.in").read_text() == "flask==3.1.3\nrequests==2.34.2\n"
    again = run_cli(["requirements.in", "--require-pins"], cwd=tmp_path)
    assert again.returncode == 0, again.stdout
    assert run_cli(["requirements.in"], cwd=tmp_path).returncode == 0


def test_lock_file_cannot_be_top_level(tmp_path: Path, flask_wheels: Path) -> None:
    _app(tmp_path, flask_wheels, "idna")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    result = run_cli(["--top-level", "uv.lock"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("drift-guard: error: uv.lock")


def test_package_declared_under_a_false_marker_is_undeclared_itself(
    tmp_path: Path, flask_wheels: Path
) -> None:
    venv = _app(tmp_path, flask_wheels, "Flask", "tomli")
    pins = [ln for ln in freeze_file(venv).splitlines() if not ln.startswith("tomli")]
    marker = 'tomli==2.0.1 ; python_version < "3.11"'
    frozen = "\n".join([*pins, marker]) + "\n"
    (tmp_path / "requirements.txt").write_text(frozen)
    if sys.version_info < (3, 11):
        assert run_cli([], cwd=tmp_path).returncode == 0
        return
    doc = _json(run_cli(["--format", "json"], cwd=tmp_path))
    (finding,) = doc["findings"]
    assert (finding["kind"], finding["name"]) == ("undeclared", "tomli")
    assert "the marker excludes it here" in finding["reason"]
    # Against a top-level file: the package itself, not what it needs.
    (tmp_path / "requirements.in").write_text(f"flask\n{marker}\n")
    top = _json(run_cli(["--format", "json", "requirements.in"], cwd=tmp_path))
    assert [(f["kind"], f["name"]) for f in top["findings"]] == [("undeclared", "tomli")]


def test_empty_requirements_file_says_it_declares_nothing(
    tmp_path: Path, flask_wheels: Path
) -> None:
    _app(tmp_path, flask_wheels, "idna")
    (tmp_path / "requirements.txt").write_text("# nothing yet\n")
    result = run_cli([], cwd=tmp_path)
    assert result.returncode == 1
    assert "note: requirements.txt declares nothing" in result.stdout


def test_near_miss_name_is_not_offered_for_install(tmp_path: Path, flask_wheels: Path) -> None:
    _app(tmp_path, flask_wheels, "requests")
    (tmp_path / "requirements.txt").write_text(
        "reqeusts==2.34.2\nurllib3==2.2.3\nidna==3.10\n"
    )
    doc = _json(run_cli(["--format", "json"], cwd=tmp_path))
    by_kind = {f["kind"]: f for f in doc["findings"]}
    assert by_kind["missing"]["reason"].startswith("did you mean requests?")
    assert "install 'reqeusts" not in by_kind["missing"]["hint"]
    assert by_kind["undeclared"]["reason"].startswith("did you mean reqeusts?")


def test_zappa_project_allows_zappa_but_not_what_declared_packages_need(
    tmp_path: Path, flask_wheels: Path
) -> None:
    venv = _app(tmp_path, flask_wheels, "Flask", "requests")
    pins = freeze_file(venv)
    pip(venv, "install", "zappa", find_links=flask_wheels)
    # A hand-written freeze that forgot urllib3, which requests needs (and zappa too).
    (tmp_path / "requirements.txt").write_text(
        "".join(ln + "\n" for ln in pins.splitlines() if not ln.startswith("urllib3"))
    )
    without = _json(run_cli(["--format", "json"], cwd=tmp_path))
    assert {f["name"] for f in without["findings"]} == {"kappa", "urllib3", "zappa"}

    (tmp_path / "zappa_settings.json").write_text('{"dev": {"app_function": "app.app"}}\n')
    doc = _json(run_cli(["--format", "json"], cwd=tmp_path))
    (finding,) = doc["findings"]
    assert (finding["kind"], finding["name"]) == ("undeclared", "urllib3")
    assert finding["required_by"] == ["requests", "zappa"]
    assert "uninstall" not in finding["hint"]
    # --ignore of the tool does not hide it either.
    ignored = _json(run_cli(["--format", "json", "--ignore", "zappa"], cwd=tmp_path))
    assert [f["name"] for f in ignored["findings"]] == ["urllib3"]
