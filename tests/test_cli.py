"""End to end, as a user runs it: real venvs, the real pip, wheels written here, the CLI as a
process. The scenarios are issue 2's "done when" list."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
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
    fixed = run_cli(
        ["requirements.in", "--top-level", "requirements.in", "--require-pins", "--fix"],
        cwd=tmp_path,
    )
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert (tmp_path / "requirements.in").read_text() == "flask==3.1.3\nrequests==2.34.2\n"
    # Pinned now, and still read as top-level without being told: a .in file lists choices.
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


# --- every hint, followed, ends in a clean re-check -------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DRIFTS = st.lists(
    st.one_of(
        st.tuples(
            st.just("install"),
            st.sampled_from(["tool", "extra-tool", "loner", "app==2.0", "lib==3.0", "lib==1.0"]),
        ),
        st.tuples(
            st.just("no-deps"), st.sampled_from(["lib==1.0", "lib==3.0", "tool", "app==2.0"])
        ),
        st.tuples(st.just("uninstall"), st.sampled_from(["lib", "util", "app", "deep"])),
    ),
    min_size=1,
    max_size=3,
)


class Sandbox:
    """One real project venv, made once, put back to its declared state for each example."""

    def __init__(self, root: Path, wheels: Path) -> None:
        self.root, self.wheels = root, wheels
        self.venv = make_venv(root / ".venv")
        pip(self.venv, "install", "app==1.0", find_links=wheels)
        self.frozen = freeze_file(self.venv)
        (root / "requirements.txt").write_text(self.frozen)
        self.env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull}
        self.env.pop("PYTHONPATH", None)
        self.declared = self.save("declared")

    def save(self, name: str) -> Path:
        """A copy of the venv as it is now, to put back with `restore` (a copy is put back
        in a fraction of the time pip takes to undo and redo each change)."""
        copy = self.root.parent / f"{self.root.name}-{name}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.venv.path, copy, symlinks=True)
        return copy

    def restore(self, copy: Path) -> None:
        (self.root / "requirements.txt").write_text(self.frozen)
        shutil.rmtree(self.venv.path)
        shutil.copytree(copy, self.venv.path, symlinks=True)

    def reset(self) -> None:
        self.restore(self.declared)

    def drift(self, steps: list) -> None:  # type: ignore[type-arg]
        for op, what in steps:
            if op == "uninstall":
                pip(self.venv, "uninstall", "-y", what)
            elif op == "no-deps":
                pip(self.venv, "install", "--no-deps", what, find_links=self.wheels)
            else:
                pip(self.venv, "install", what, find_links=self.wheels)

    def check(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["--format", "json", *args], cwd=self.root)

    def follow(self, hint: str) -> None:
        """Run the (one) command a hint names, as printed."""
        m = re.search(r"(\S*pip(?: --python \S+)? (?:install|uninstall) (?:(?!, ).)*)", hint)
        if m is None:
            return
        argv = shlex.split(m.group(1))
        if argv[0] != "pip":
            argv[0] = str(self.root / argv[0])
        done = subprocess.run(argv, cwd=self.root, env=self.env, input="y\n" * 30,
                              capture_output=True, text=True)
        assert done.returncode == 0, (hint, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    wheels = tmp_path_factory.mktemp("drift-wheels")
    write_wheel(wheels, "app", "1.0", ["lib>=1.0,<3", "util"])
    write_wheel(wheels, "app", "2.0", ["lib>=2.0", "util", "newdep"])
    for version in ("1.0", "2.0", "3.0"):
        write_wheel(wheels, "lib", version)
    write_wheel(wheels, "util", "1.0", ["deep"])
    write_wheel(wheels, "deep", "1.0")
    write_wheel(wheels, "newdep", "1.0")
    write_wheel(wheels, "tool", "1.0", ["helper", "shared"])
    write_wheel(wheels, "extra-tool", "1.0", ["shared"])
    write_wheel(wheels, "helper", "1.0")
    write_wheel(wheels, "shared", "1.0")
    write_wheel(wheels, "loner", "1.0")
    return Sandbox(tmp_path_factory.mktemp("drifting"), wheels)


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=DRIFTS)
def test_following_every_hint_ends_in_a_clean_recheck(
    sandbox: Sandbox, steps: list  # type: ignore[type-arg]
) -> None:
    # The environment's side: run every command the hints print, in the order printed.
    sandbox.reset()
    sandbox.drift(steps)
    drifted = sandbox.save("drifted")
    doc = _json(sandbox.check())
    assert doc["ok"] == (pip_check(sandbox.venv) == set() and doc["findings"] == [])
    for finding in doc["findings"]:
        sandbox.follow(finding["hint"])
    after = _json(sandbox.check())
    assert after["ok"], (steps, doc["findings"], after["findings"])

    # The declarations' side: drift-guard --fix records the environment -- unless it does
    # not satisfy itself, which is reported and never recorded.
    sandbox.restore(drifted)  # the same drift again
    broken = pip_check(sandbox.venv)
    fixed = run_cli(["--fix"], cwd=sandbox.root)
    if broken:
        assert fixed.returncode == 2, (steps, fixed.stdout, fixed.stderr)
        assert (sandbox.root / "requirements.txt").read_text() == sandbox.frozen
    else:
        assert fixed.returncode in (0, 1), (steps, fixed.stdout, fixed.stderr)
        again = _json(sandbox.check())
        assert again["ok"], (steps, again["findings"])


# --- one verdict: the CLI, the pre-commit hook and the Zappa callback -----------------------


@pytest.fixture(scope="module")
def zappa_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Venv, Path]:
    """A venv set up as the README's Zappa recipe says (zappa, flask and drift-guard in the
    app's own venv), from wheels rebuilt offline from this session's distributions."""
    pytest.importorskip("zappa")
    pytest.importorskip("flask")
    from drift_guard import __version__
    from tests.helpers import ROOT, wheels_of_installed

    wheels = tmp_path_factory.mktemp("zappa-wheels")
    wheels_of_installed(["zappa", "flask", "packaging"], wheels)
    files = {
        p.relative_to(ROOT).as_posix(): p.read_text()
        for p in (ROOT / "drift_guard").rglob("*")
        if p.is_file() and p.suffix in (".py", ".txt") and "__pycache__" not in p.parts
    }
    files[f"drift_guard-{__version__}.dist-info/entry_points.txt"] = (
        "[console_scripts]\ndrift-guard = drift_guard.cli:main\n"
    )
    write_wheel(wheels, "drift-guard", __version__, requires=["packaging>=24"], modules=[],
                files=files)
    write_wheel(wheels, "left-pad-tool", "1.0.2")
    write_wheel(wheels, "blinker", "1.0.0")
    venv = make_venv(tmp_path_factory.mktemp("zappa-app") / "venv")
    pip(venv, "install", "zappa", "flask", "drift-guard", find_links=wheels)
    return venv, wheels


def _zappa_project(tmp_path: Path, requirements: str) -> Path:
    import yaml

    from tests.helpers import ROOT

    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "fixtures" / "zappa-app", proj)
    (proj / "requirements.txt").write_text(requirements)
    # The test Python's Lambda runtime may be past its block dates on the day the tests run;
    # this test is about the drift verdict, so its dates are moved (as a user would when AWS
    # extends them).
    settings = json.loads((proj / "zappa_settings.json").read_text())
    lam = settings["dev"].setdefault("drift_guard", {}).setdefault("lambda", {})
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    lam.setdefault("runtimes", {})[runtime] = {
        "deprecated": "2099-01-01", "block-create": "2099-02-01", "block-update": "2099-03-01"
    }
    (proj / "zappa_settings.json").write_text(json.dumps(settings, indent=4))
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in manifest if h["id"] == "drift-guard-system")
    hook = {k: hook[k] for k in ("id", "name", "entry", "language", "pass_filenames",
                                 "always_run")}
    (proj / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]})
    )
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=proj, check=True, capture_output=True)
    return proj


def _three_verdicts(venv: Venv, proj: Path) -> dict:  # type: ignore[type-arg]
    """(exit code, output) of the CLI, the pre-commit hook and `zappa package`, each run as a
    user with the app's venv activated runs it."""
    home = proj.parent / "home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PIP_", "VIRTUAL_ENV", "CONDA", "DRIFT_GUARD", "PYTHON",
                                "PRE_COMMIT"))
           and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env.update({
        "VIRTUAL_ENV": str(venv.path), "PATH": f"{venv.bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home), "TMPDIR": str(home / "tmp"), "NO_COLOR": "1",
        "DRIFT_GUARD_NO_CACHE": "1",
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    })
    runs = {
        "cli": [str(venv.bin / "drift-guard"), "--format", "json"],
        "hook": [sys.executable, "-m", "pre_commit", "run", "--all-files", "drift-guard-system"],
        "zappa": [str(venv.bin / "zappa"), "package", "dev"],
    }
    result = {}
    for name, argv in runs.items():
        done = subprocess.run(argv, cwd=proj, env=env, capture_output=True, text=True,
                              timeout=600)
        result[name] = (done.returncode, done.stdout + done.stderr)
    for leftover in proj.glob("*.zip"):
        leftover.unlink()
    return result


def _flask_pins(venv: Venv) -> str:
    from drift_guard.compare import closure
    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed
    from drift_guard.markers import target_environment

    env = environment_at(str(venv.path), "test")
    installed = list_installed(env)
    names = closure([("flask", frozenset())], installed, target_environment(env))
    return "".join(f"{installed[n].raw_name}=={installed[n].version}\n" for n in sorted(names))


@pytest.mark.e2e
def test_cli_hook_and_zappa_callback_give_one_verdict(
    tmp_path: Path, zappa_app: tuple[Venv, Path]
) -> None:
    venv, wheels = zappa_app
    # Top-level and frozen declarations alike: Zappa and what only it needs are deploy
    # tooling everywhere, not drift.
    for name, requirements in (("top", "flask>=3.0\n"), ("frozen", _flask_pins(venv))):
        proj = _zappa_project(tmp_path / name, requirements)
        verdicts = _three_verdicts(venv, proj)
        assert {k: v[0] for k, v in verdicts.items()} == {"cli": 0, "hook": 0, "zappa": 0}, (
            name, verdicts)
        assert json.loads(verdicts["cli"][1])["findings"] == []

    proj = _zappa_project(tmp_path / "drift", "flask>=3.0\n")
    pip(venv, "install", "left-pad-tool", find_links=wheels)
    try:
        verdicts = _three_verdicts(venv, proj)
    finally:
        pip(venv, "uninstall", "-y", "left-pad-tool")
    assert {k: v[0] for k, v in verdicts.items()} == {"cli": 1, "hook": 1, "zappa": 1}, verdicts
    cli = json.loads(verdicts["cli"][1])
    assert [(f["kind"], f["name"]) for f in cli["findings"]] == [("undeclared", "left-pad-tool")]
    assert "left-pad-tool 1.0.2" in verdicts["hook"][1]
    assert "left-pad-tool 1.0.2" in verdicts["zappa"][1]

    # A broken environment stops all three alike.
    blinker = next(v for n, v in pip_list_freeze(venv).items() if n.lower() == "blinker")
    proj = _zappa_project(tmp_path / "broken", "flask>=3.0\n")
    pip(venv, "install", "--no-deps", "blinker==1.0.0", find_links=wheels)
    try:
        verdicts = _three_verdicts(venv, proj)
    finally:
        pip(venv, "install", "--no-deps", f"blinker=={blinker}", find_links=wheels)
    assert {k: v[0] for k, v in verdicts.items()} == {"cli": 1, "hook": 1, "zappa": 1}, verdicts
    cli = json.loads(verdicts["cli"][1])
    assert [(f["kind"], f["name"]) for f in cli["findings"]] == [("broken", "blinker")]
    for name in ("hook", "zappa"):
        assert "requires blinker" in verdicts[name][1], verdicts[name][1]
