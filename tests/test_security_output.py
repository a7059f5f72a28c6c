"""Output cannot carry commands: what a checked repository or environment holds is escaped for
every format, and every printed hint is safe to paste into a shell.

Each attack is built for real in tmp_path -- dist-info directories with hostile names and
metadata, lock files of every format with hostile package names, a requirements file named
with a newline, a `'$(touch marker)'` URL -- and drift-guard runs as CI runs it (a
subprocess, each format). The assertions: no line of stdout starts with `::` except
drift-guard's own annotations; no control or escape character reaches stdout or stderr; no
HTML or Markdown survives in the Markdown; JSON parses; and every command a hint prints,
run through `sh -c` exactly as printed, passes its arguments through unchanged and never
creates the marker.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from tests.helpers import make_venv, run_cli

FORMATS = ("text", "github", "markdown", "json")

# What the attacks try to smuggle in: a line break followed by workflow commands, `%` (the
# runner's own escape), a terminal title / screen-clear sequence, a bidi override, HTML,
# backticks and Markdown.
HOSTILE = (
    "x\n::error title=pwned::injected%0A\r::add-mask::tok\x1b]0;pwned\x07\x1b[2J\u202e"
    "<script>alert(1)</script>`code`*b*[l](u)"
)

# drift-guard's own annotations: a known command, known properties whose values hold no
# `:` or `,` (they are escaped), then the data.
_OWN = re.compile(
    r"^::(error|warning|notice) "
    r"((?:file|line|endLine|title)=[^,:]*)(?:,(?:file|line|endLine|title)=[^,:]*)*::"
)
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def assert_safe(fmt: str, out: str, err: str) -> None:
    """The checks every run must pass, whatever the verdict."""
    for line in out.split("\n"):
        if line.startswith("::"):
            m = _OWN.match(line)
            assert m is not None, f"workflow command injected: {line!r}"
            assert "title=drift-guard" in line, line
    assert not _CONTROL.search(out), f"control character on stdout: {out!r}"
    assert not _CONTROL.search(err.rstrip("\n")), f"control character on stderr: {err!r}"
    assert "\n::" not in err
    assert not err.startswith("::")
    # stdout/stderr hold complete lines only: a CR or a lone line break is never data.
    assert "\r" not in out + err
    if fmt == "json" and out:
        json.loads(out)
        assert out.isascii()
    if fmt == "markdown":
        for line in out.splitlines():
            if line.startswith("> **Warning: the check is incomplete.**"):
                continue  # drift-guard's own words
            if line.startswith(("|", ">")):
                # No tag; every backtick, star and bracket in a cell or a quote is escaped.
                assert "<" not in line, line
                assert not re.search(r"(?<!\\)[`*\[]", line), line
            elif line.startswith(("Environment: ", "Declarations: ")):
                # One code span holds the whole value (HTML is literal inside it).
                m = re.match(r"^\w+: (`+)(.*)\1(  )?$", line)
                assert m is not None, line
                assert m.group(1) not in m.group(2), line
            else:
                assert "<" not in line, line


@pytest.fixture(scope="module")
def empty_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / ".venv", with_pip=False).path


def project_with_venv(tmp_path: Path, empty_venv: Path) -> Path:
    """A project whose .venv is a copy of a real empty venv (pyvenv.cfg, site-packages)."""
    import shutil

    shutil.copytree(empty_venv, tmp_path / ".venv", symlinks=True)
    return tmp_path


def site_packages(project: Path) -> Path:
    return next((project / ".venv" / "lib").glob("python3*/site-packages"))


def add_dist(project: Path, dirname: str, metadata: str) -> None:
    info = site_packages(project) / dirname
    info.mkdir()
    (info / "METADATA").write_text(metadata, encoding="utf-8")


def run_all(project: Path, *args: str) -> Iterator[Tuple[str, subprocess.CompletedProcess]]:
    for fmt in FORMATS:
        result = run_cli([*args, "--format", fmt], cwd=project)
        assert result.returncode in (0, 1, 2), result.stderr
        assert "Traceback" not in result.stderr
        assert_safe(fmt, result.stdout, result.stderr)
        yield fmt, result


# --- installed METADATA ----------------------------------------------------------------------


def hostile_env(tmp_path: Path, empty_venv: Path) -> Path:
    project = project_with_venv(tmp_path, empty_venv)
    (project / "requirements.txt").write_text("")
    # A Name header that is no name at all (the directory name is valid): printed names come
    # from metadata.
    add_dist(
        project,
        "evil-1.0.dist-info",
        "Metadata-Version: 2.1\nName: evil\x1b]0;t\x07<b>`x`\nVersion: 1.0\n\n",
    )
    # A directory name holding a line break, `::`, ESC and `%`: the version part of the name.
    add_dist(
        project,
        "wow-1.0\n::error::from-dir%0A\x1b[2J.dist-info",
        "Metadata-Version: 2.1\nName: wow\nVersion: 1.0\n ::warning::folded\x1b[31m\n\n",
    )
    # A Name folded over two lines (email header continuation) and a Requires-Dist with junk.
    add_dist(
        project,
        "folded-2.0.dist-info",
        "Metadata-Version: 2.1\nName: folded\n ::add-mask::secret\nVersion: 2.0\n"
        "Requires-Dist: nothing-here (>=1) ; extra == '`$(touch m)`'\n\n",
    )
    add_dist(
        project,
        "tick-1.0.dist-info",
        "Metadata-Version: 2.1\nName: tick`$(touch marker)`<script>\nVersion: 1.0<img src=x>\n\n",
    )
    return project


def test_hostile_installed_metadata_is_escaped_in_every_format(
    tmp_path: Path, empty_venv: Path
) -> None:
    project = hostile_env(tmp_path, empty_venv)
    outputs: Dict[str, str] = {}
    for fmt, result in run_all(project):
        assert result.returncode in (1, 2)
        outputs[fmt] = result.stdout + result.stderr
    # The attack reached the report (so the escaping was exercised, not skipped).
    assert "\\x1b" in outputs["text"] or "not a valid" in outputs["text"]
    assert "wow" in outputs["text"]
    assert not (project / "marker").exists()


def test_hostile_metadata_hints_run_as_printed_never_run_anything(
    tmp_path: Path, empty_venv: Path
) -> None:
    project = hostile_env(tmp_path, empty_venv)
    result = run_cli(["--format", "json"], cwd=project)
    assert result.returncode in (1, 2), result.stderr
    if result.returncode == 1:
        for finding in json.loads(result.stdout)["findings"]:
            run_hint(finding["hint"], project)
    assert not (project / "marker").exists()
    assert not (project / "m").exists()


# --- requirements files: a hostile URL, a hostile file name ------------------------------------


def stub_tools(root: Path) -> Tuple[Path, Path]:
    """pip, uv, poetry and pipenv stand-ins that record their argv, one argument a line
    (arguments holding a line break are recorded escaped), and do nothing else."""
    bin_dir = root / "stub-bin"
    bin_dir.mkdir(parents=True)
    log = root / "argv.log"
    for tool in ("pip", "uv", "poetry", "pipenv", "drift-guard"):
        script = bin_dir / tool
        script.write_text(
            "#!/usr/bin/env python3\n"
            "import sys\n"
            f"with open({str(log)!r}, 'a') as f:\n"
            "    f.write(repr(sys.argv[1:]) + '\\n')\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir, log


def commands_in(hint: str) -> List[str]:
    """The shell commands a hint offers ("..., or pip install X", "uv add -- X")."""
    found = []
    for part in re.split(r", or |; ", hint):
        part = part.strip()
        if re.match(r"^(pip|uv|poetry|pipenv|\S*/bin/pip)\b", part):
            found.append(part)
    return found


def run_hint(hint: str, cwd: Path) -> List[List[str]]:
    """Run each command in `hint` through `sh -c` with stub tools, and the whole hint line
    too (a user pasting all of it); return the argv lists the stubs saw."""
    bin_dir, log = stub_tools(cwd / f"stubs{len(list(cwd.glob('stubs*')))}")
    env = {"PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]), "HOME": str(cwd)}
    seen: List[List[str]] = []
    for command in [*commands_in(hint), hint]:
        if log.exists():
            log.unlink()
        subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, timeout=30)
        if log.exists():
            import ast

            seen.extend(ast.literal_eval(line) for line in log.read_text().splitlines())
    return seen


MARKER_URL = "https://example.invalid/evil-1.0.tar.gz#'$(touch${IFS}marker)'`touch${IFS}marker2`"


def test_a_hostile_url_in_a_requirements_file_is_quoted_in_the_hint(
    tmp_path: Path, empty_venv: Path
) -> None:
    project = project_with_venv(tmp_path, empty_venv)
    (project / "requirements.txt").write_text(f"evil @ {MARKER_URL}\nok==1.0\n")
    list(run_all(project))
    result = run_cli(["--format", "json"], cwd=project)
    assert result.returncode == 1, result.stderr
    hints = {f["name"]: f["hint"] for f in json.loads(result.stdout)["findings"]}
    seen = run_hint(hints["evil"], project)
    # The stub pip received the requirement as one argument, exactly as the file spells it.
    assert ["--python", "./.venv", "install", f"evil @ {MARKER_URL}"] in seen
    assert not (project / "marker").exists()
    assert not (project / "marker2").exists()


def test_a_url_with_a_space_is_bad_input_and_the_error_is_escaped(
    tmp_path: Path, empty_venv: Path
) -> None:
    project = project_with_venv(tmp_path, empty_venv)
    (project / "requirements.txt").write_text(
        "evil @ https://example.invalid/x.tar.gz#'$(touch marker)'\n"
    )
    for fmt, result in run_all(project):
        if result.returncode == 2:
            assert result.stderr.count("\n") == 1
            if fmt == "github":
                assert result.stdout.startswith("::error title=drift-guard::")
    assert not (project / "marker").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_requirements_file_named_with_a_line_break_cannot_inject(
    tmp_path: Path, empty_venv: Path, fmt: str
) -> None:
    project = project_with_venv(tmp_path, empty_venv)
    name = "r\n::error title=x::pwned%0A\x1b[31m<i>`.txt"
    (project / name).write_text("missing-pkg==1.0\nother===1.0`<b>*x*`\n")
    result = run_cli([name, "--format", fmt], cwd=project)
    assert result.returncode in (1, 2), result.stderr
    assert_safe(fmt, result.stdout, result.stderr)
    if result.returncode == 1 and fmt == "github":
        first = result.stdout.splitlines()[0]
        assert first.startswith(
            "::error file=r%0A%3A%3Aerror title=x%3A%3Apwned%250A\\x1b[31m<i>`.txt,"
        )


# --- lock files ------------------------------------------------------------------------------


def _toml(value: str) -> str:
    # JSON string escapes (\n, \r, \u001b, \", \\) are TOML basic-string escapes too.
    return json.dumps(value)


def lock_files(name: str) -> Dict[str, str]:
    q = _toml(name)
    return {
        "uv.lock": (
            'version = 1\nrevision = 3\nrequires-python = ">=3.9"\n\n'
            '[[package]]\nname = "demo"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
            f"dependencies = [{{ name = {q} }}]\n\n"
            f'[[package]]\nname = {q}\nversion = "1.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
        ),
        "poetry.lock": (
            f'[[package]]\nname = {q}\nversion = "1.0"\ndescription = ""\noptional = false\n'
            'python-versions = "*"\ngroups = ["main"]\nfiles = []\n\n'
            '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\n'
            'content-hash = "0"\n'
        ),
        "Pipfile.lock": json.dumps(
            {
                "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {},
                          "sources": []},
                "default": {name: {"version": "==1.0"}},
                "develop": {},
            }
        ),
        "pylock.toml": (
            'lock-version = "1.0"\ncreated-by = "test"\n\n'
            f'[[packages]]\nname = {q}\nversion = "1.0"\n'
        ),
    }


@pytest.mark.parametrize("lock", ["uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml"])
def test_hostile_package_names_in_lock_files_cannot_inject(
    tmp_path: Path, empty_venv: Path, lock: str
) -> None:
    project = project_with_venv(tmp_path, empty_venv)
    if lock == "uv.lock":
        (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1.0"\n')
    (project / lock).write_text(lock_files(HOSTILE)[lock], encoding="utf-8")
    codes = set()
    for fmt, result in run_all(project, lock):
        codes.add(result.returncode)
        if result.returncode == 1 and fmt == "json":
            for finding in json.loads(result.stdout)["findings"]:
                run_hint(finding["hint"], project)
    # A reader may reject the name (exit 2, one line) or report it (exit 1): never a crash.
    assert codes <= {1, 2}
    assert not (project / "marker").exists()


def test_hostile_lock_names_that_start_with_a_dash_never_reach_a_tool_as_an_option(
    tmp_path: Path, empty_venv: Path
) -> None:
    """An installed distribution named like an option, undeclared against uv.lock: the hint
    offers no command with it (and `uv add` gets `--` before any package)."""
    project = project_with_venv(tmp_path, empty_venv)
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1.0"\n')
    (project / "uv.lock").write_text(
        'version = 1\nrevision = 3\nrequires-python = ">=3.9"\n\n'
        '[[package]]\nname = "demo"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
    )
    add_dist(project, "--index-url=https:__evil.invalid-1.0.dist-info",
             "Metadata-Version: 2.1\nName: --index-url=https://evil.invalid\nVersion: 1.0\n\n")
    add_dist(project, "plain-1.0.dist-info", "Metadata-Version: 2.1\nName: plain\nVersion: 1.0\n\n")
    result = run_cli(["--format", "json"], cwd=project)
    assert result.returncode in (1, 2), result.stderr
    if result.returncode == 1:
        for finding in json.loads(result.stdout)["findings"]:
            for argv in run_hint(finding["hint"], project):
                assert not any(a.startswith("--index-url") for a in argv), argv
                if argv[:1] == ["add"]:
                    assert argv[1] == "--"
        hints = [f["hint"] for f in json.loads(result.stdout)["findings"]]
        assert any(h.startswith("uv add -- plain==1.0") for h in hints), hints
