"""Requirements files and pyproject.toml built as an attacker would: each attack is a real file
in tmp_path, read by the real CLI in a subprocess under a timeout and a memory cap. Bad input
is exit 2 with exactly one line on stderr; nothing secret appears in any output; valid but
hostile input (fan-out, long chains, huge variables) finishes quickly."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from tests.helpers import make_venv

SECRET = "s3cr3t-T0KEN-do-not-print-4f9a"
MEMORY_CAP = 1024 * 1024 * 1024  # 1 GiB of address space for the whole check
TIMEOUT = 60


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("target") / "venv", with_pip=False).path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def run(project: Path, venv: Path, *files: str, env: Optional[Dict[str, str]] = None
        ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON")}
    full.update(NO_COLOR="1", DG_SECRET=SECRET, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "drift_guard", "--venv", str(venv), *(files or ("requirements.txt",))],
        cwd=project, env=full, capture_output=True, text=True, timeout=TIMEOUT,
        preexec_fn=_limit_memory)


def assert_bad_input(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    for secret in (SECRET, *secrets):
        assert secret not in result.stderr and secret not in result.stdout
    return lines[0]


# ------------------------------------------------------------------ special files

@pytest.mark.parametrize("how", ["environ", "fifo", "zero", "include-environ", "include-fifo",
                                 "include-zero", "include-dev-zero", "directory", "huge"])
def test_special_files_are_refused_naming_the_path_only(project: Path, venv: Path,
                                                        how: str) -> None:
    top = project / "requirements.txt"
    target = project / "other.txt" if how.startswith("include") else top
    if how.startswith("include"):
        top.write_text("six==1.16.0\n-r other.txt\n" if how != "include-dev-zero"
                       else "-r /dev/zero\n")
    kind = how.rsplit("-", 1)[-1]
    if kind == "environ":
        target.symlink_to("/proc/self/environ")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "zero" and how != "include-dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "directory":
        target.mkdir()
    elif kind == "huge":
        with open(target, "wb") as f:  # sparse: no disk used, but over the size cap
            f.truncate(300 * 1024 * 1024)
    line = assert_bad_input(run(project, venv))
    assert "DG_SECRET" not in line and "PATH=" not in line


def test_an_include_outside_the_project_is_named_but_never_quoted(tmp_path: Path, project: Path,
                                                                   venv: Path) -> None:
    (tmp_path / ".netrc").write_text(f"machine example.com login bob password {SECRET}\n")
    (project / "requirements.txt").write_text("six==1.16.0\n-r ../.netrc\n")
    line = assert_bad_input(run(project, venv), "bob", "machine")
    assert ".netrc:1" in line


def test_a_bad_marker_outside_the_project_is_not_quoted(tmp_path: Path, project: Path,
                                                         venv: Path) -> None:
    (tmp_path / "shared.txt").write_text(f"six ; python_version ~= '3' and os_name != '{SECRET}'\n")
    (project / "requirements.txt").write_text("-r ../shared.txt\n")
    assert "shared.txt:1" in assert_bad_input(run(project, venv))


# -------------------------------------------------------------------- ${VAR} values

@pytest.mark.parametrize("line", [
    "x==${DG_SECRET}", "${DG_SECRET} extra", "x @ https://u:${DG_SECRET}@e.com/x.tar.gz#egg=x!",
    "-e ${DG_SECRET}", "--use-feature ${DG_SECRET}", "x==1.0 --hash=${DG_SECRET}",
    "x==1.0 --hash=sha256:a -C ${DG_SECRET}", "-r ${DG_SECRET}.txt", "x ; os_name == ${DG_SECRET}",
    "https://e.com/${DG_SECRET}#egg=${DG_SECRET}!", "-c ${DG_SECRET}/c.txt", "--no-binary -${DG_SECRET}",
    "-e git+https://e.com/${DG_SECRET}", "x @ file://${DG_SECRET}/x.tar.gz",
])
def test_expanded_variables_never_reach_the_error_line(project: Path, venv: Path,
                                                       line: str) -> None:
    (project / "requirements.txt").write_text(f"six==1.16.0\n{line}\n")
    assert "requirements.txt:2" in assert_bad_input(run(project, venv), SECRET[:8], SECRET[-8:])


@pytest.mark.parametrize("line", [
    "x @ https://u:${DG_SECRET}@e.com/x-1.0-py3-none-any.whl",
    "https://${DG_SECRET}@e.com/x-1.0.tar.gz#egg=x", "x==1.0 --index-url https://${DG_SECRET}@e/",
])
def test_expanded_variables_in_accepted_lines_are_never_printed(project: Path, venv: Path,
                                                                line: str) -> None:
    (project / "requirements.txt").write_text(f"{line}\n")
    for fmt in ("text", "json", "github", "markdown"):
        result = run(project, venv, "--format", fmt, "requirements.txt")
        assert result.returncode == 1, result.stderr[-2000:]  # x is missing
        assert SECRET not in result.stdout + result.stderr


def test_a_variable_of_10kb_used_2000_times_is_read_in_linear_time(project: Path,
                                                                   venv: Path) -> None:
    lines = ["--extra-index-url https://e.com/${DG_BIG}"] * 2000
    lines.append("x @ https://e.com/" + "${DG_BIG}" * 2000 + "/x-1.0.tar.gz ; os_name == 'nt'")
    (project / "requirements.txt").write_text("\n".join(lines) + "\n")
    result = run(project, venv, env={"DG_BIG": "a" * 10_000})
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "aaaaaaaaaa" not in result.stderr


# ---------------------------------------------------------------- includes at scale

def test_exponential_fan_out_is_read_in_linear_time(project: Path, venv: Path) -> None:
    for i in range(60):  # each file includes the next twice: 2**60 paths, 61 files
        (project / f"r{i}.txt").write_text(f"-r r{i + 1}.txt\n-r r{i + 1}.txt\n")
    (project / "r60.txt").write_text("six==1.16.0\n")
    (project / "requirements.txt").write_text("-r r0.txt\n")
    result = run(project, venv)
    assert result.returncode == 1, result.stderr[-2000:]  # six is missing: drift, not an error
    assert "six" in result.stdout


def test_a_1000_file_include_chain_is_read_without_recursion(project: Path, venv: Path) -> None:
    for i in range(1000):
        (project / f"c{i}.txt").write_text(f"-r c{i + 1}.txt\n")
    (project / "c1000.txt").write_text("six==1.16.0\n")
    (project / "requirements.txt").write_text("-r c0.txt\n")
    result = run(project, venv)
    assert result.returncode == 1, result.stderr[-2000:]


def test_a_1000_file_cycle_is_one_short_line(project: Path, venv: Path) -> None:
    for i in range(1000):
        (project / f"c{i}.txt").write_text(f"-r c{(i + 1) % 1000}.txt\n")
    (project / "requirements.txt").write_text("-r c0.txt\n")
    line = assert_bad_input(run(project, venv))
    assert "c999.txt:1" in line and len(line) < 400


# ------------------------------------------------------ what packaging cannot handle

@pytest.mark.parametrize("line", [
    "six==" + "1" * 5000, "six>=1." + "9" * 5000, "six ; python_version ~= '3'",
    "six ; python_version < '" + "1" * 5000 + "'",
    "six ; " + "(" * 3000 + "os_name == 'x'" + ")" * 3000,
    "six ; python_version > '3' and platform_release ~= '" + "9" * 4301 + "'",
])
def test_versions_and_markers_packaging_chokes_on_are_bad_input(project: Path, venv: Path,
                                                                line: str) -> None:
    (project / "requirements.txt").write_text(f"{line}\n")
    assert len(assert_bad_input(run(project, venv))) < 500


def test_a_long_valid_marker_is_read(project: Path, venv: Path) -> None:
    marker = " and ".join(["os_name == 'x'"] * 5000)
    (project / "requirements.txt").write_text(f"six ; {marker}\n")
    result = run(project, venv)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(("text", "kind"), [
    ("a = " + "[" * 20000 + "]" * 20000, "nested"),
    ('[project]\nname = "x"\ndependencies = ["six; python_version ~= \'3\'"]\n', "marker"),
    ('[project]\nname = "x"\ndependencies = ["six==' + "1" * 5000 + '"]\n', "digits"),
    ('[project]\nname = "x\\n::error::y"\n', "name"),
    (b'[project]\nname = "\xff"\n', "undecodable"),
])
def test_hostile_pyproject_is_bad_input(project: Path, venv: Path, text: object,
                                        kind: str) -> None:
    path = project / "pyproject.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(str(text))
    line = assert_bad_input(run(project, venv, "pyproject.toml"))
    assert line.startswith("drift-guard: error: pyproject.toml")


def test_pyproject_that_is_a_fifo_or_environ_is_refused(project: Path, venv: Path) -> None:
    path = project / "pyproject.toml"
    os.mkfifo(path)
    assert "FIFO" in assert_bad_input(run(project, venv, "pyproject.toml"))
    path.unlink()
    path.symlink_to("/proc/self/environ")
    assert_bad_input(run(project, venv, "pyproject.toml"))
