"""The renderers: text, json, github (workflow commands) and markdown (step summary).

Most tests render hand-made reports; the e2e tests make real findings (a real venv, the real
pip, a real requirements file), run the CLI as CI does and pin the exact output, and run the
README's CI recipes as shell steps.
"""

from __future__ import annotations

import json
import os
import platform
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

from drift_guard.models import Environment, Finding, Report, Requirement, Source
from drift_guard.render import fix_hint, github, markdown, text
from drift_guard.render import json as json_render
from tests.helpers import ROOT, make_venv, pip, run_cli, write_wheel

MISSING = Finding("missing", "requests", None, "==2.32.3", "requirements.txt", 7)
MISMATCH = Finding("mismatch", "flask", "3.0.3", "==3.0.0", "requirements.txt", 2)
UNDECLARED = Finding(
    "undeclared", "rich", "13.7.1", None, dependencies=("markdown-it-py", "mdurl", "pygments"),
    uninstall=("rich", "markdown-it-py", "mdurl", "pygments"),
)
# Markdown's hard line break: two trailing spaces, spelled out so no editor strips them.
BREAK = "  "
UNPINNED = Finding("unpinned", "idna", "3.7", ">=3", "requirements.txt", 4)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Paths are shown relative to the current directory: work from the project, as a user does.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    return tmp_path


def report(
    project: Path, *findings: Finding, sources: Optional[tuple] = None, notes: tuple = ()
) -> Report:
    env = Environment(
        str(project / ".venv"), str(project / ".venv/bin/python"), "3.12.4", "./.venv", ()
    )
    if sources is None:
        reqs = tuple(
            Requirement(name, "==1", "requirements.txt", i + 1)
            for i, name in enumerate(("flask", "requests", "idna"))
        )
        sources = (
            Source("requirements.txt", "requirements.txt", reqs, True, files=("requirements.txt",)),
        )
    return Report(env, sources, tuple(findings), notes)


def hint(r: Report, f: Finding) -> str:
    # The wording of hints belongs to drift_guard.advice; here only where they go matters.
    return fix_hint(r, f)


# --- github ------------------------------------------------------------------------------------


def test_github_mismatch_is_an_error_annotation_on_its_line(project: Path) -> None:
    r = report(project, MISMATCH)
    lines = github.render(r).splitlines()
    assert lines[0] == (
        "::error file=requirements.txt,line=2,title=drift-guard%3A flask installed version "
        "does not match::flask 3.0.3 is installed but flask==3.0.0 is declared. "
        f"Fix: {hint(r, MISMATCH)}"
    )


def test_github_missing_names_the_declaration(project: Path) -> None:
    r = report(project, MISSING)
    assert github.render(r).splitlines()[0] == (
        "::error file=requirements.txt,line=7,title=drift-guard%3A requests declared but not "
        f"installed::requests==2.32.3 is declared but not installed. Fix: {hint(r, MISSING)}"
    )


def test_github_spans_continuation_lines_with_end_line(project: Path) -> None:
    f = MISMATCH._replace(line=3, end_line=5, hashes=True)
    first = github.render(report(project, f)).splitlines()[0]
    assert first.startswith("::error file=requirements.txt,line=3,endLine=5,title=")


def test_github_undeclared_points_at_the_first_file_without_a_line(project: Path) -> None:
    r = report(project, UNDECLARED)
    assert github.render(r).splitlines()[0] == (
        "::error file=requirements.txt,title=drift-guard%3A rich installed but not declared::"
        "rich 13.7.1 is installed but not declared (with markdown-it-py, mdurl, pygments). "
        f"Fix: {hint(r, UNDECLARED)}"
    )


def test_github_undeclared_dependency_says_what_needs_it(project: Path) -> None:
    f = Finding("undeclared", "mdurl", "0.1.2", None, required_by=("markdown-it-py",))
    assert "mdurl 0.1.2 is installed but not declared (needed by markdown-it-py)." in (
        github.render(report(project, f))
    )


def test_github_unpinned_is_a_warning(project: Path) -> None:
    line = github.render(report(project, UNPINNED)).splitlines()[0]
    assert line.startswith(
        "::warning file=requirements.txt,line=4,title=drift-guard%3A idna not pinned::"
    )
    assert "idna>=3 is not pinned with == (installed: 3.7)." in line


def test_github_lock_finding_has_a_file_and_no_line(project: Path) -> None:
    lock = (Source("poetry.lock", "poetry.lock", (), True, files=("poetry.lock",)),)
    f = Finding("mismatch", "flask", "3.0.3", "==3.0.0", "poetry.lock", None, key="package[3]")
    line = github.render(report(project, f, sources=lock)).splitlines()[0]
    assert line.startswith("::error file=poetry.lock,title=")


def test_github_bare_and_direct_declarations_are_spelled_as_requirements(project: Path) -> None:
    # compare() records a bare requirement as "" and a direct reference as "@ URL".
    bare = MISSING._replace(declared="")
    direct = MISSING._replace(declared="@ https://example.invalid/requests-2.32.3.tar.gz")
    out = github.render(report(project, bare, direct))
    assert "::requests is declared but not installed." in out
    assert "::requests @ https%3A//" not in out  # data is not property-escaped
    assert "::requests @ https://example.invalid/requests-2.32.3.tar.gz is declared" in out


def test_github_escapes_properties_and_data(project: Path) -> None:
    odd = "reqs/a,b:c%.txt"
    src = (Source(odd, "requirements.txt", (), True, files=(odd,)),)
    f = MISSING._replace(source=odd)
    out = github.render(report(project, f, sources=src, notes=("50% done\nsecond line",)))
    assert out.startswith("::error file=reqs/a%2Cb%3Ac%25.txt,line=7,title=")
    assert "::notice title=drift-guard::50%25 done%0Asecond line\n" in out
    # Each annotation stays on one physical line.
    assert all(line.startswith("::") for line in out.splitlines()[:-1])


def test_github_paths_are_relative_to_the_repository_root_in_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runner reads a relative file= from the repository root, not from the step's directory.
    (project / "services" / "api").mkdir(parents=True)
    monkeypatch.chdir(project / "services" / "api")
    out = github.render(report(project, MISMATCH), workspace=str(project))
    assert out.startswith("::error file=services/api/requirements.txt,line=2,")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project))
    assert github.render(report(project, MISMATCH)) == out


def test_github_paths_outside_the_workspace_are_left_alone(project: Path) -> None:
    out = github.render(report(project, MISMATCH), workspace=str(project / "elsewhere"))
    assert out.startswith("::error file=requirements.txt,")


def test_github_no_drift_is_one_plain_summary_line(project: Path) -> None:
    out = github.render(report(project))
    assert out == (
        "drift-guard: no drift in .venv (Python 3.12.4, found by ./.venv) against "
        "requirements.txt (3 declared)\n"
    )


def test_github_summary_counts_findings(project: Path) -> None:
    out = github.render(report(project, MISMATCH, MISSING, UNDECLARED))
    assert out.splitlines()[-1].startswith("drift-guard: 3 findings in .venv (Python 3.12.4")
    assert [line[:7] for line in out.splitlines()[:3]] == ["::error"] * 3


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_no_drift(project: Path) -> None:
    assert markdown.render(report(project)) == textwrap.dedent(f"""\
        ## drift-guard

        Environment: `.venv (Python 3.12.4, found by ./.venv)`{BREAK}
        Declarations: `requirements.txt (3 declared)`

        **No drift.** The environment matches its declarations.
        """)


def test_markdown_one_table_row_per_finding(project: Path) -> None:
    dep = Finding("undeclared", "mdurl", "0.1.2", None, required_by=("markdown-it-py",))
    r = report(project, MISSING, MISMATCH, UNDECLARED, dep)
    out = markdown.render(r)
    assert "**4 findings.**" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows == [
        "| Kind | Package | Installed | Declared | Where | Fix |",
        f"| missing | requests | — | ==2.32.3 | requirements.txt:7 | {hint(r, MISSING)} |",
        f"| mismatch | flask | 3.0.3 | ==3.0.0 | requirements.txt:2 | {hint(r, MISMATCH)} |",
        "| undeclared | rich (+ markdown-it-py, mdurl, pygments) | 13.7.1 | — | — "
        f"| {hint(r, UNDECLARED)} |",
        f"| undeclared | mdurl (needed by markdown-it-py) | 0.1.2 | — | — | {hint(r, dep)} |",
    ]


def test_markdown_cells_cannot_break_the_table(project: Path) -> None:
    f = MISMATCH._replace(declared="==1.0|x", source="a|b.txt")
    out = markdown.render(report(project, f))
    row = next(line for line in out.splitlines() if line.startswith("| mismatch"))
    cells = re.split(r"(?<!\\)\|", row)[1:-1]
    assert len(cells) == 6
    assert cells[3].strip() == "==1.0\\|x"


def test_markdown_where_names_the_key_of_a_lock_finding(project: Path) -> None:
    lock = (Source("poetry.lock", "poetry.lock", (), True, files=("poetry.lock",)),)
    f = Finding("mismatch", "flask", "3.0.3", "==3.0.0", "poetry.lock", None, key="package[3]")
    assert "| poetry.lock (package\\[3]) |" in markdown.render(report(project, f, sources=lock))


def test_markdown_notes_are_quoted(project: Path) -> None:
    out = markdown.render(report(project, notes=("line 4: unnamed requirement skipped",)))
    assert out.endswith("\n> line 4: unnamed requirement skipped  \n")


# --- text ----------------------------------------------------------------------------------------


def test_text_says_which_environment_was_checked_and_how_it_was_found(project: Path) -> None:
    out = text.render(report(project, MISMATCH))
    assert out.splitlines()[0] == (
        "drift-guard: 1 finding in .venv (Python 3.12.4, found by ./.venv) against "
        "requirements.txt (3 declared)"
    )


def test_text_short_form_for_hooks_lists_what_where_and_the_fix(project: Path) -> None:
    r = report(project, MISMATCH, UNDECLARED)
    out = text.render(r, short=True)
    assert out == (
        "drift-guard: 2 findings in .venv (Python 3.12.4, found by ./.venv) against "
        "requirements.txt (3 declared)\n"
        "mismatch:\n"
        "  flask: installed 3.0.3, declared ==3.0.0  (requirements.txt:2)\n"
        f"      -> {hint(r, MISMATCH)}\n"
        "undeclared:\n"
        "  rich 13.7.1, with its dependencies markdown-it-py, mdurl, pygments\n"
        f"      -> {hint(r, UNDECLARED)}\n"
        "To make the requirements match this environment: drift-guard --fix "
        "(preview: drift-guard --diff)\n"
    )


def test_text_colours_only_when_asked(project: Path) -> None:
    r = report(project, MISSING)
    assert "\033[" not in text.render(r)
    assert "\033[31mmissing: declared, not installed\033[0m" in text.render(r, color=True)


def test_text_no_drift_is_one_line(project: Path) -> None:
    assert text.render(report(project)) == (
        "drift-guard: no drift: .venv (Python 3.12.4, found by ./.venv) matches "
        "requirements.txt (3 declared)\n"
    )


# --- json ----------------------------------------------------------------------------------------


def test_json_has_the_contract_shape(project: Path) -> None:
    doc = json.loads(json_render.render(report(project, MISSING, UNDECLARED, MISMATCH)))
    assert doc["schema"] == 1
    assert doc["ok"] is False
    assert doc["environment"]["prefix"] == str(project / ".venv")
    assert doc["environment"]["python_version"] == "3.12.4"
    assert doc["environment"]["found_by"] == "./.venv"
    assert doc["sources"][0]["path"] == "requirements.txt"
    assert doc["sources"][0]["format"] == "requirements.txt"
    assert doc["sources"][0]["declared"] == 3
    base = ("kind", "name", "installed", "declared", "source", "line")
    assert [{k: f[k] for k in base} for f in doc["findings"]] == [
        {
            "kind": "missing",
            "name": "requests",
            "installed": None,
            "declared": "==2.32.3",
            "source": "requirements.txt",
            "line": 7,
        },
        {
            "kind": "undeclared",
            "name": "rich",
            "installed": "13.7.1",
            "declared": None,
            "source": None,
            "line": None,
        },
        {
            "kind": "mismatch",
            "name": "flask",
            "installed": "3.0.3",
            "declared": "==3.0.0",
            "source": "requirements.txt",
            "line": 2,
        },
    ]
    assert doc["findings"][1]["dependencies"] == ["markdown-it-py", "mdurl", "pygments"]
    assert "dependencies" not in doc["findings"][0]


def test_json_no_drift_is_ok(project: Path) -> None:
    doc = json.loads(json_render.render(report(project)))
    assert doc["ok"] is True
    assert doc["findings"] == []


# --- every format: warnings, reasons, the newer kinds, --quiet, colour -----------------------

BROKEN = Finding(
    "broken", "blinker", "1.8.2", ">=1.9.0", required_by=("flask",),
    reason="flask 3.1.3 requires blinker>=1.9.0, installed 1.8.2", suggested="blinker>=1.9.0",
)
UNRESOLVED = Finding("unresolved", "yaml", None, None, imported_by=("app.py:3",))
TYPO = Finding(
    "missing", "reqeusts", None, "==2.34.2", "requirements.txt", 3,
    reason="did you mean requests?",
)
GAP = "site-packages/broken-1.0.dist-info: METADATA is unreadable; that distribution was skipped"


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "json"])
def test_warnings_are_shown_in_every_format(project: Path, fmt: str) -> None:
    from drift_guard.render import render

    r = report(project, MISMATCH)._replace(warnings=(GAP,))
    out = render(r, fmt, color=False)
    assert "METADATA is unreadable; that distribution was skipped" in out
    if fmt == "text":
        assert out.splitlines()[1] == f"warning: {GAP}"  # right under the verdict
    if fmt == "github":
        assert out.splitlines()[0].startswith("::warning title=drift-guard%3A incomplete check::")
    if fmt == "markdown":
        assert "**Warning: the check is incomplete.**" in out
    if fmt == "json":
        assert json.loads(out)["warnings"] == [GAP]


def test_text_no_drift_with_warnings_says_the_check_is_incomplete(project: Path) -> None:
    out = text.render(report(project)._replace(warnings=(GAP,)))
    assert out.splitlines()[1:] == [
        f"warning: {GAP}",
        "The check is incomplete: what could not be read was not compared.",
    ]


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "json"])
def test_reason_is_shown_in_every_format(project: Path, fmt: str) -> None:
    from drift_guard.render import render

    out = render(report(project, TYPO), fmt, color=False)
    assert "did you mean requests?" in out
    assert "pip install" not in out
    assert "install reqeusts" not in out


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "json"])
def test_broken_and_unresolved_findings_render_in_every_format(project: Path, fmt: str) -> None:
    from drift_guard.render import render

    out = render(report(project, BROKEN, UNRESOLVED), fmt, color=False)
    if fmt == "json":
        doc = json.loads(out)
        assert doc["findings"][0]["required_by"] == ["flask"]
        assert doc["findings"][1]["imported_by"] == ["app.py:3"]
        return
    assert "flask 3.1.3 requires blinker" in out or "blinker (required by flask)" in out
    assert "app.py:3" in out


def test_text_broken_names_the_unmet_requirement(project: Path) -> None:
    out = text.render(report(project, BROKEN))
    assert "  blinker: flask 3.1.3 requires blinker>=1.9.0, installed 1.8.2\n" in out


@pytest.mark.parametrize("fmt", ["text", "github", "markdown"])
def test_quiet_prints_nothing_without_drift_in_every_format(project: Path, fmt: str) -> None:
    from drift_guard.render import render

    assert render(report(project), fmt, quiet=True) == ""
    assert render(report(project, MISMATCH), fmt, quiet=True) != ""


def test_quiet_json_is_still_one_document(project: Path) -> None:
    from drift_guard.render import render

    assert json.loads(render(report(project), "json", quiet=True))["ok"] is True


@pytest.mark.parametrize(
    ("environ", "isatty", "expected"),
    [
        ({}, True, True),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": "0"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({}, False, False),
    ],
)
def test_colour_follows_no_color_org(environ: Dict[str, str], isatty: bool, expected: bool) -> None:
    from drift_guard.render import use_color

    assert use_color(isatty, environ) is expected


def test_cli_quiet_no_drift_prints_nothing_in_every_format(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_guard import cli, pipeline

    monkeypatch.setattr(pipeline, "check", lambda *a, **k: (report(project), {}))
    for fmt in ("text", "github", "markdown"):
        assert cli.main(["--quiet", "--format", fmt]) == 0
        assert capsys.readouterr() == ("", "")
    assert cli.main(["--quiet", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_cli_quiet_still_warns_on_stderr_when_the_check_was_incomplete(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_guard import cli, pipeline

    gap = report(project)._replace(warnings=(GAP,))
    monkeypatch.setattr(pipeline, "check", lambda *a, **k: (gap, {}))
    assert cli.main(["--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"drift-guard: warning: {GAP}\n"


# --- advice ------------------------------------------------------------------------------------


def _hint(f: Finding, fmt: str = "requirements.txt", **kw: object) -> str:
    from drift_guard.advice import Pip
    from drift_guard.advice import hint as advise

    return advise(f, fmt, f.source or "requirements.txt", Pip(), **kw)  # type: ignore[arg-type]


def test_advice_uninstalls_a_root_with_what_only_it_needed_in_one_command() -> None:
    assert _hint(UNDECLARED) == (
        "record it (drift-guard --fix adds rich==13.7.1), or pip uninstall -y rich "
        "markdown-it-py mdurl pygments"
    )


def test_advice_never_uninstalls_what_something_needs() -> None:
    dep = Finding("undeclared", "mdurl", "0.1.2", None, required_by=("markdown-it-py",))
    assert _hint(dep) == (
        "record it (drift-guard --fix adds mdurl==0.1.2); markdown-it-py needs it"
    )
    by_reason = Finding("undeclared", "blinker", "1.9.0", None, reason="needed by flask")
    assert "uninstall" not in _hint(by_reason)
    for fmt in ("poetry.lock", "uv.lock", "Pipfile.lock", "pylock.toml", "pyproject.toml"):
        assert "uninstall" not in _hint(dep, fmt)
        assert "uninstall -y rich markdown-it-py mdurl pygments" in _hint(UNDECLARED, fmt)


def test_advice_does_not_offer_to_install_a_likely_typo() -> None:
    out = _hint(TYPO)
    assert out == (
        "correct the name in requirements.txt to requests if that is what was meant (nothing "
        "named reqeusts is installed: reqeusts is unverified, installing it would fetch an "
        "unchecked project), or drop the line (drift-guard --fix)"
    )
    assert "pip install" not in _hint(TYPO, "poetry.lock")


def test_advice_quotes_every_argument_for_the_shell() -> None:
    evil = Finding(
        "missing", "evil", None, "@ https://example.invalid/x-1.0.tar.gz#'$(touch m)`id`",
        "requirements.txt", 1,
    )
    import shlex

    cmd = _hint(evil).partition(", or drop the line")[0]
    assert shlex.split(cmd) == [
        "pip", "install", "evil @ https://example.invalid/x-1.0.tar.gz#'$(touch m)`id`"
    ]


def test_advice_gives_no_command_for_a_name_that_is_not_a_name() -> None:
    for name in ("--index-url=https://evil.invalid", "-e", "a b", "x\n::error::y", "$(id)"):
        f = Finding("undeclared", name, "1.0", None)
        for fmt in ("requirements.txt", "uv.lock", "poetry.lock", "Pipfile.lock"):
            out = _hint(f, fmt)
            assert out.startswith("not a valid package name"), out
            assert "uninstall" not in out
            assert " add " not in out


@pytest.mark.parametrize(
    ("fmt", "record"),
    [
        ("uv.lock", "uv add -- rich==13.7.1"),
        ("poetry.lock", "poetry add -- rich==13.7.1"),
        ("Pipfile.lock", "pipenv install -- rich==13.7.1"),
    ],
)
def test_lock_tool_hints_end_options_before_the_package(fmt: str, record: str) -> None:
    assert _hint(UNDECLARED, fmt).startswith(record + ", or pip uninstall -y rich")


def test_pylock_sync_hint_names_the_checked_environment() -> None:
    f = MISSING._replace(source="pylock.toml", line=None)
    assert _hint(f, "pylock.toml", python="./.venv") == (
        "uv pip install --python ./.venv -r pylock.toml"
    )


def test_hints_for_a_venv_without_pip_use_pip_python_or_uv_pip(project: Path) -> None:
    from drift_guard.advice import pip_for

    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.12.4\n")
    assert pip_for(str(venv), "./.venv").argv("install", "x") == (
        "pip", "--python", "./.venv", "install", "x"
    )
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nuv = 0.13.9\nversion_info = 3.12.4\n")
    assert pip_for(str(venv), "VIRTUAL_ENV").argv("uninstall", "x") == (
        "uv", "pip", "uninstall", "--python", "./.venv", "x"
    )
    (venv / "bin" / "pip").write_text("")
    assert pip_for(str(venv), "./.venv").argv("uninstall", "x") == (
        ".venv/bin/pip", "uninstall", "-y", "x"
    )
    assert pip_for(str(venv), "VIRTUAL_ENV").argv("install", "x") == ("pip", "install", "x")


def test_lock_tools_table_matches_the_commands_fix_runs() -> None:
    """advice.LOCK_TOOLS and fix/locks.py name the same tools and verbs."""
    from drift_guard.advice import LOCK_TOOLS

    assert LOCK_TOOLS["uv.lock"][1][:3] == ("uv", "add", "--")
    assert LOCK_TOOLS["poetry.lock"][1][:3] == ("poetry", "add", "--")
    assert LOCK_TOOLS["Pipfile.lock"][1][:3] == ("pipenv", "install", "--")
    assert LOCK_TOOLS["uv.lock"][0] == ("uv", "sync", "--inexact")
    assert LOCK_TOOLS["poetry.lock"][0] == ("poetry", "install")
    assert LOCK_TOOLS["Pipfile.lock"][0] == ("pipenv", "sync", "--dev")


# --- real findings, as CI produces them ----------------------------------------------------------

ANNOTATIONS_REQUIREMENTS = (
    "# runtime\n"
    "acme-http==1.2.0\n"
    "acme-db==2.0.0 \\\n"
    "    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
    "acme-cache==0.5.0\n"
)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("wheels")
    write_wheel(d, "acme-http", "1.2.0")
    write_wheel(d, "acme-db", "1.9.0")
    write_wheel(d, "acme-db", "2.0.0")
    write_wheel(d, "acme-cache", "0.5.0")
    write_wheel(d, "acme-cli", "0.3.0", ["acme-colors>=1"])
    write_wheel(d, "acme-colors", "1.0.0")
    return d


def _python_version() -> str:
    # The venvs below are made by this interpreter.
    return platform.python_version()


@pytest.mark.e2e
def test_github_annotations_on_real_findings(tmp_path: Path, wheels: Path) -> None:
    (tmp_path / "requirements.txt").write_text(ANNOTATIONS_REQUIREMENTS)
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", "acme-http==1.2.0", "acme-db==1.9.0", "acme-cli", find_links=wheels)

    result = run_cli(["--format", "github"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "::error file=requirements.txt,line=5,title=drift-guard%3A acme-cache declared but not "
        "installed::acme-cache==0.5.0 is declared but not installed. Fix: pip --python ./.venv "
        "install acme-cache==0.5.0, or drop the line (drift-guard --fix)",
        "::error file=requirements.txt,line=3,endLine=4,title=drift-guard%3A acme-db installed "
        "version does not match::acme-db 1.9.0 is installed but acme-db==2.0.0 is declared. "
        "Fix: pip --python ./.venv install acme-db==2.0.0, or regenerate the file with its "
        "hashes (pip-compile --generate-hashes)",
        "::error file=requirements.txt,title=drift-guard%3A acme-cli installed but not declared::"
        "acme-cli 0.3.0 is installed but not declared (with acme-colors). Fix: record it "
        "(drift-guard --fix adds acme-cli==0.3.0), or pip --python ./.venv uninstall -y acme-cli "
        "acme-colors",
        "::error file=requirements.txt,title=drift-guard%3A acme-colors installed but not "
        "declared::acme-colors 1.0.0 is installed but not declared (needed by acme-cli) (goes "
        "with acme-cli). Fix: record it (drift-guard --fix adds acme-colors==1.0.0), or "
        "uninstall it together with acme-cli (see acme-cli)",
        "::notice title=drift-guard::requirements.txt is read as frozen: every requirement is "
        "pinned, so it must list everything installed; say --top-level requirements.txt if it "
        "lists only what you chose",
        f"drift-guard: 4 findings in .venv (Python {_python_version()}, found by ./.venv) "
        "against requirements.txt (3 declared)",
    ]


@pytest.mark.e2e
def test_markdown_summary_on_real_findings(tmp_path: Path, wheels: Path) -> None:
    (tmp_path / "requirements.txt").write_text(ANNOTATIONS_REQUIREMENTS)
    venv = make_venv(tmp_path / ".venv", with_pip=False)
    pip(venv, "install", "acme-http==1.2.0", "acme-db==1.9.0", "acme-cli", find_links=wheels)

    result = run_cli(["--format", "markdown"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == textwrap.dedent(f"""\
        ## drift-guard

        Environment: `.venv (Python {_python_version()}, found by ./.venv)`{BREAK}
        Declarations: `requirements.txt (3 declared)`

        **4 findings.**

        | Kind | Package | Installed | Declared | Where | Fix |
        |---|---|---|---|---|---|
        | missing | acme-cache | — | ==0.5.0 | requirements.txt:5 | pip --python ./.venv install acme-cache==0.5.0, or drop the line (drift-guard --fix) |
        | mismatch | acme-db | 1.9.0 | ==2.0.0 | requirements.txt:3 | pip --python ./.venv install acme-db==2.0.0, or regenerate the file with its hashes (pip-compile --generate-hashes) |
        | undeclared | acme-cli (+ acme-colors) | 0.3.0 | — | — | record it (drift-guard --fix adds acme-cli==0.3.0), or pip --python ./.venv uninstall -y acme-cli acme-colors |
        | undeclared | acme-colors (needed by acme-cli) (goes with acme-cli) | 1.0.0 | — | — | record it (drift-guard --fix adds acme-colors==1.0.0), or uninstall it together with acme-cli (see acme-cli) |

        > requirements.txt is read as frozen: every requirement is pinned, so it must list everything installed; say --top-level requirements.txt if it lists only what you chose{BREAK}
        """)  # noqa: E501 - a table row is one line


# --- the README's CI recipes, run as shell steps --------------------------------------------

LOCK = "acme-http==1.2.0\nacme-db==2.0.0\n"

# The steps of the README recipes, verbatim but for how drift-guard itself is installed
# (pipx / pip from PyPI there; a shim running this checkout here).
INSTALL_STEP = """\
python -m venv .venv
.venv/bin/pip install -r requirements.txt
"""
GITHUB_STEP = """\
drift-guard --python .venv/bin/python --format markdown >> "$GITHUB_STEP_SUMMARY" || true
drift-guard --python .venv/bin/python --format github
"""
GITLAB_SCRIPT = """\
drift-guard --python .venv/bin/python --format markdown > drift-guard.md || true
drift-guard --python .venv/bin/python
"""
SHELL_STEP = """\
drift-guard --python .venv/bin/python || exit 1
echo deploying
"""


class CI:
    """A CI job's workspace: a checkout, a shell, drift-guard on PATH, pip offline."""

    def __init__(self, root: Path, wheels: Path) -> None:
        self.workspace = root / "work" / "repo"
        self.workspace.mkdir(parents=True)
        (self.workspace / "requirements.txt").write_text(LOCK)
        tools = root / "tools"
        tools.mkdir()
        shim = tools / "drift-guard"
        # Only drift-guard sees this checkout; the CI's own pip and venv must not.
        shim.write_text(
            f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m drift_guard "$@"\n'
        )
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
        self.env: Dict[str, str] = {
            "PATH": os.pathsep.join([str(tools), os.path.dirname(sys.executable), "/usr/bin:/bin"]),
            "HOME": str(root),
            "NO_COLOR": "1",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheels),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_STEP_SUMMARY": str(root / "step_summary.md"),
        }

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        # Like `run:` steps and GitLab's script: bash, stop at the first failing command.
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.workspace,
            env=self.env,
            capture_output=True,
            text=True,
        )


@pytest.mark.e2e
def test_ci_recipes_pass_when_the_environment_was_installed_from_the_lock_file(
    tmp_path: Path, wheels: Path
) -> None:
    ci = CI(tmp_path, wheels)
    installed = ci.sh(INSTALL_STEP)
    assert installed.returncode == 0, installed.stderr

    gh = ci.sh(GITHUB_STEP)
    assert gh.returncode == 0, gh.stdout + gh.stderr
    env_line = f".venv (Python {_python_version()}, found by --python)"
    assert gh.stdout == (
        f"drift-guard: no drift in {env_line} against requirements.txt (2 declared)\n"
    )
    summary = Path(ci.env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "**No drift.**" in summary

    gl = ci.sh(GITLAB_SCRIPT)
    assert gl.returncode == 0, gl.stdout + gl.stderr
    assert gl.stdout.startswith(f"drift-guard: no drift: {env_line} matches requirements.txt")
    assert "**No drift.**" in (ci.workspace / "drift-guard.md").read_text()

    plain = ci.sh(SHELL_STEP)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert plain.stdout.endswith("deploying\n")


@pytest.mark.e2e
def test_ci_recipes_fail_naming_a_tool_pip_installed_into_the_same_environment(
    tmp_path: Path, wheels: Path
) -> None:
    ci = CI(tmp_path, wheels)
    assert ci.sh(INSTALL_STEP + ".venv/bin/pip install acme-cli\n").returncode == 0

    gh = ci.sh(GITHUB_STEP)
    assert gh.returncode == 1
    annotations = [line for line in gh.stdout.splitlines() if line.startswith("::")]
    assert annotations[0].startswith(
        "::error file=requirements.txt,title=drift-guard%3A acme-cli installed but not declared::"
        "acme-cli 0.3.0 is installed but not declared"
    )
    summary = Path(ci.env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| undeclared | acme-cli (+ acme-colors) | 0.3.0 |" in summary

    gl = ci.sh(GITLAB_SCRIPT)
    assert gl.returncode == 1
    assert "acme-cli 0.3.0" in gl.stdout
    assert "| undeclared | acme-cli" in (ci.workspace / "drift-guard.md").read_text()

    plain = ci.sh(SHELL_STEP)
    assert plain.returncode == 1
    assert "acme-cli 0.3.0" in plain.stdout
    assert "deploying" not in plain.stdout


# --- hints, run as printed ---------------------------------------------------------------------


def _run_hint(command: str, cwd: Path) -> None:
    # As a user pastes it: into a POSIX shell, with the test session's tools (pip, uv) on PATH.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env["PIP_CONFIG_FILE"] = os.devnull
    done = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, (command, done.stdout, done.stderr)


@pytest.mark.e2e
@pytest.mark.parametrize("maker", ["venv", "uv"])
def test_following_the_uninstall_hint_of_a_root_gives_a_clean_recheck(
    tmp_path: Path, wheels: Path, maker: str
) -> None:
    (tmp_path / "requirements.txt").write_text(LOCK)
    if maker == "uv":
        uv = os.path.join(os.path.dirname(sys.executable), "uv")
        if not os.path.exists(uv):
            pytest.skip("uv is not installed in the test environment")
        subprocess.run([uv, "venv", "-q", str(tmp_path / ".venv")], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--offline", "--no-index", "--find-links", str(wheels),
             "--python", str(tmp_path / ".venv"), "acme-http==1.2.0", "acme-db==2.0.0",
             "acme-cli"],
            check=True,
        )
    else:
        venv = make_venv(tmp_path / ".venv", with_pip=False)
        pip(venv, "install", "acme-http==1.2.0", "acme-db==2.0.0", "acme-cli", find_links=wheels)

    first = run_cli(["--format", "json"], cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    hints = {f["name"]: f["hint"] for f in json.loads(first.stdout)["findings"]}
    assert set(hints) == {"acme-cli", "acme-colors"}
    # acme-cli needs it: no command removes it alone.
    assert "uninstall -y" not in hints["acme-colors"]
    assert "pip uninstall" not in hints["acme-colors"]
    command = hints["acme-cli"].partition(", or ")[2]
    expected = (
        "uv pip uninstall --python ./.venv acme-cli acme-colors"
        if maker == "uv"
        else "pip --python ./.venv uninstall -y acme-cli acme-colors"
    )
    assert command == expected
    _run_hint(command, tmp_path)

    again = run_cli([], cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("drift-guard: no drift")


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "json"])
def test_a_file_that_declares_nothing_gets_a_note_in_every_format(project: Path, fmt: str) -> None:
    from drift_guard.render import render

    empty = (
        Source("requirements.txt", "requirements.txt", (), False, files=("requirements.txt",)),
    )
    out = render(report(project, UNDECLARED, sources=empty), fmt, color=False)
    assert out.count("requirements.txt declares nothing") == 1
    # Not twice when the check already said so.
    said = report(project, UNDECLARED, sources=empty, notes=("requirements.txt declares nothing",))
    assert render(said, fmt, color=False).count("declares nothing") == 1


def test_advice_for_a_package_the_marker_excludes_is_to_uninstall_it() -> None:
    f = Finding(
        "undeclared", "tomli", "2.0.1", None, reason="the marker excludes it here",
        uninstall=("tomli",),
    )
    assert _hint(f) == "pip uninstall -y tomli, or change the marker that excludes it"
