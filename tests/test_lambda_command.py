"""`drift-guard lambda ARTIFACT`: a built Lambda package checked for the runtime it will run on.

The packages are real `pip install -t build/` trees (what SAM, the Serverless Framework, CDK
and hand-made builds zip), installed offline from wheels repacked from this test environment
(flask, anyio, boto3... as installed here) or written in the test, and real zips of them.
Shared objects are this interpreter's own extension modules, cross-checked with `objdump -T`.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest

from drift_guard.aws_lambda import command
from tests.helpers import repack, requires_closure, write_wheel
from tests.test_zappa import dynload

pytestmark = pytest.mark.e2e  # real pip install -t trees

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
SUPPORTED = datetime.date(2025, 11, 22)
"""A day when every runtime from python3.10 on is supported and none is near deprecation."""


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("flask")
    pytest.importorskip("boto3")
    dest = tmp_path_factory.mktemp("lambda-wheels")
    for dist in requires_closure(["flask", "boto3", "anyio", "setuptools"]):
        repack(dist, dest)
    return dest


def pip_target(wheelhouse: Path, build: Path, *names: str,
               extra: Sequence[Path] = ()) -> Path:
    """`pip install -t build NAMES`, offline, as a Lambda build does."""
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--no-index", "--find-links", str(wheelhouse), "-t", str(build), "-q"]
    for e in extra:
        cmd += ["--find-links", str(e)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run([*cmd, *names], check=True, capture_output=True, text=True, env=env)
    return build


def zip_tree(build: Path, dest: Path, skip: Sequence[str] = ()) -> Path:
    """Zip a build directory, leaving out the paths in `skip` (as `zip -x` would)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(build.rglob("*")):
            rel = path.relative_to(build).as_posix()
            if path.is_file() and rel not in skip and "__pycache__" not in rel:
                zf.write(path, rel)
    return dest


def run(project: Path, *args: str, today: datetime.date = SUPPORTED) -> Tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(project)
    try:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                code = command.run(list(args), today=today)
            except Exception as exc:  # as main() would
                from drift_guard.errors import DriftGuardError

                if not isinstance(exc, DriftGuardError):
                    raise
                return 2, f"drift-guard: error: {exc}\n"
        return code, out.getvalue()
    finally:
        os.chdir(cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("flask>=3\n")
    return proj


@pytest.fixture(scope="session")
def flask_build(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_target(wheelhouse, tmp_path_factory.mktemp("flask") / "build", "flask")


# --- a clean package passes, as a directory and as a zip --------------------------------


def test_clean_pip_install_t_build_passes(project: Path, flask_build: Path) -> None:
    code, out = run(project, str(flask_build), "--runtime", PY)
    assert code == 0, out
    assert "drift-guard: no drift:" in out
    assert f"package ok: build ships the 7 packages the app needs on {PY} on x86_64" in out
    assert "largest packages:" in out
    zipped = zip_tree(flask_build, project / "function.zip")
    code, out = run(project, str(zipped), "--runtime", PY)
    assert code == 0, out
    assert "package ok: function.zip ships the 7 packages" in out


def test_the_command_is_dispatched_from_the_main_cli(project: Path, flask_build: Path) -> None:
    # The real command line, in a subprocess; the runtime's dates come from pyproject.toml
    # so the result does not depend on the day the test runs.
    (project / "pyproject.toml").write_text(
        f'[tool.drift-guard.lambda]\nruntime = "{PY}"\n'
        f'[tool.drift-guard.lambda.runtimes."{PY}"]\n'
        'deprecated = "2099-01-01"\nblock-create = "2099-02-01"\nblock-update = "2099-03-01"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-m", "drift_guard", "lambda", str(flask_build)],
                            cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "package ok" in result.stdout
    result = subprocess.run([sys.executable, "-m", "drift_guard", "lambda", str(flask_build),
                             "--architecture", "s390"], cwd=project, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice" in result.stderr


# --- nested files stripped ----------------------------------------------------------------


def test_a_nested_file_missing_from_the_zip_is_named(project: Path, flask_build: Path) -> None:
    zipped = zip_tree(flask_build, project / "function.zip", skip=["werkzeug/test.py"])
    code, out = run(project, str(zipped), "--runtime", PY)
    assert code == 1, out
    assert "stripped: needed by the app, not in the package" in out
    assert "werkzeug" in out and "1 of" in out and "not in the package: werkzeug/test.py" in out


# --- the runtime's Python, not the build's ---------------------------------------------


def test_marker_dependencies_are_evaluated_for_the_runtimes_python(
    project: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    # anyio needs exceptiongroup on Python < 3.11; this environment's pip (3.11+) skips it.
    if sys.version_info < (3, 11):
        pytest.skip("pip here would install exceptiongroup")
    build = pip_target(wheelhouse, tmp_path / "build", "anyio")
    (project / "requirements.txt").write_text("anyio\n")
    code, out = run(project, str(build), "--runtime", "python3.10")
    assert code == 1, out
    assert ("anyio 4.16.0 needs exceptiongroup on python3.10, and it is not installed"
            in out.replace(_anyio_version(), "4.16.0"))
    code, out = run(project, str(build), "--runtime", PY)
    assert "exceptiongroup" not in out


def _anyio_version() -> str:
    import importlib.metadata as md

    return md.version("anyio")


def test_requires_python_is_checked_against_the_runtime(project: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "w"
    wheel = write_wheel(wheels, "newlib", "2.0")
    # Requires-Python: >=3.12, as the wheel's METADATA says it.
    with zipfile.ZipFile(wheel) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    meta = "newlib-2.0.dist-info/METADATA"
    items[meta] = items[meta].replace(b"Version: 2.0\n", b"Version: 2.0\nRequires-Python: >=3.12\n")
    with zipfile.ZipFile(wheel, "w") as zf:
        for n, d in items.items():
            zf.writestr(n, d)
    build = tmp_path / "build"
    build.mkdir()
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(build)  # a wheel unpacked is what pip install -t leaves, RECORD and all
    (project / "requirements.txt").write_text("newlib==2.0\n")
    code, out = run(project, str(build), "--runtime", "python3.11")
    assert code == 1
    assert "newlib 2.0 requires Python >=3.12; the runtime is python3.11" in out
    assert run(project, str(build), "--runtime", "python3.12")[0] == 0


# --- native code ---------------------------------------------------------------------------


def native_wheel(dest: Path, name: str, so_source: Path, so_name: str, tag: str) -> Path:
    """A real wheel shipping a real shared object (an extension module of this Python)."""
    wheel = write_wheel(dest / "src", name, "1.0")
    with zipfile.ZipFile(wheel) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    info = f"{name}-1.0.dist-info"
    items[f"{name}/{so_name}"] = so_source.read_bytes()
    items[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
                              f"Tag: {tag}\n").encode()
    items[f"{info}/RECORD"] = "".join(
        f"{n},,\n" for n in items if not n.endswith("RECORD")).encode() + f"{info}/RECORD,,\n".encode()
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{name}-1.0-{tag}.whl"
    with zipfile.ZipFile(out, "w") as zf:
        for n, d in items.items():
            zf.writestr(n, d)
    return out


def objdump_glibc(path: Path) -> str:
    """The highest GLIBC_x.y `objdump -T` lists for `path` (skips without objdump)."""
    if shutil.which("objdump") is None:
        pytest.skip("objdump is not installed")
    out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
    import re

    found = sorted({tuple(int(x) for x in m) for m in re.findall(r"GLIBC_(\d+)\.(\d+)", out)})
    return f"{found[-1][0]}.{found[-1][1]}" if found else ""


@pytest.mark.parametrize(("module", "runtime", "fits"), [
    ("_posixsubprocess", "python3.11", False),  # Amazon Linux 2: glibc 2.26
    ("_posixsubprocess", "python3.12", True),   # Amazon Linux 2023: glibc 2.34
    ("cmath", "python3.12", False),
])
def test_glibc_needs_are_read_from_the_shared_objects(
    project: Path, tmp_path: Path, module: str, runtime: str, fits: bool
) -> None:
    from drift_guard.aws_lambda import elf

    so = dynload(module)
    needed = elf.read(so.read_bytes()).glibc
    assert needed is not None
    assert objdump_glibc(so) == f"{needed[0]}.{needed[1]}"
    glibc = {"python3.11": (2, 26), "python3.12": (2, 34)}[runtime]
    if (needed <= glibc) != fits:
        pytest.skip(f"{so.name} needs GLIBC_{needed[0]}.{needed[1]} on this machine")
    # A locally built linux_x86_64 wheel: its tag says nothing about glibc.
    wheel = native_wheel(tmp_path / "w", "fastlib", so, "_speed.so", "py3-none-linux_x86_64")
    build = tmp_path / "build"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(build)
    (project / "requirements.txt").write_text("fastlib==1.0\n")
    code, out = run(project, str(build), "--runtime", runtime)
    if fits:
        assert code == 0, out
    else:
        assert code == 1, out
        assert (f"fastlib: _speed.so needs GLIBC_{needed[0]}.{needed[1]}; {runtime} on x86_64 "
                f"loads") in out


def test_free_threaded_and_wrong_architecture_builds_are_rejected(
    project: Path, tmp_path: Path
) -> None:
    so = dynload("_bisect")
    build = tmp_path / "build"
    wheel = native_wheel(tmp_path / "w", "ftlib", so, "_x.cpython-313t-x86_64-linux-gnu.so",
                         "cp313-cp313t-manylinux_2_17_x86_64")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(build)
    (project / "requirements.txt").write_text("ftlib==1.0\n")
    code, out = run(project, str(build), "--runtime", "python3.13")
    assert code == 1
    assert "built for free-threaded Python 3.13t, which Lambda does not run" in out
    assert "(free-threaded)" in out
    # The same interpreter's x86_64 module on an arm64 function.
    build2 = tmp_path / "build2"
    wheel = native_wheel(tmp_path / "w2", "armlib", so, "_x.so", "py3-none-linux_x86_64")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(build2)
    (project / "requirements.txt").write_text("armlib==1.0\n")
    code, out = run(project, str(build2), "--runtime", "python3.12", "--architecture", "arm64")
    assert code == 1
    assert "armlib: its wheel is py3-none-linux_x86_64; _x.so is built for x86_64" in out
    assert run(project, str(build2), "--runtime", "python3.12")[0] == 0


# --- runtime-provided packages, layers, size -------------------------------------------


def test_a_pinned_boto3_left_out_is_a_finding_printed_once(
    project: Path, flask_build: Path
) -> None:
    (project / "requirements.txt").write_text("flask>=3\nboto3==1.40.0\n")
    code, out = run(project, str(flask_build), "--runtime", PY)
    assert code == 1, out
    assert out.count("boto3==1.40.0 (requirements.txt:2) is left out of the package") == 1
    assert "the pin is not honoured" in out
    assert "missing" not in out  # the runtime provides it: not "declared, not installed"
    (project / "requirements.txt").write_text("flask>=3\nboto3\n")
    code, out = run(project, str(flask_build), "--runtime", PY)
    assert code == 0, out
    assert f"note: boto3 is left out of the package; {PY} provides its own boto3" in out


def test_size_report_marks_runtime_provided_and_deploy_time_weight(
    project: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    build = pip_target(wheelhouse, tmp_path / "build", "flask", "boto3", "setuptools")
    (project / "requirements.txt").write_text("flask>=3\nboto3\n")
    (project / "pyproject.toml").write_text("[tool.drift-guard.lambda]\nmax-unzipped-mb = 5\n")
    code, out = run(project, str(build), "--runtime", PY)
    assert code == 1, out
    assert "size: over the unzipped size budget" in out
    lines = out.splitlines()
    big = [ln for ln in lines if "botocore" in ln and "[runtime-provided]" in ln]
    assert big, out
    assert any("setuptools" in ln and "[deploy-time]" in ln for ln in lines), out
    assert any(ln.startswith("  -> leave out what") and "saves" in ln for ln in lines), out
    code, out = run(project, str(build), "--runtime", PY, "--format", "json")
    doc = json.loads(out)
    sizes = {p["name"]: p for p in doc["lambda"]["size"]["packages"]}
    assert sizes["botocore"]["role"] == "runtime-provided"
    assert sizes["botocore"]["size"] > 10 * 1024 * 1024
    assert sizes["setuptools"]["role"] == "deploy-time"
    assert sizes["flask"]["role"] == "app"
    saved = {r["remedy"].split(" (")[0]: r["saves"] for r in doc["lambda"]["size"]["remedies"]}
    assert saved[f"leave out what {PY} provides"] >= sizes["botocore"]["size"]


def layer_zip(dest: Path, wheels: List[Path], name: str = "layer.zip") -> Path:
    """A layer as AWS wants it: the packages under python/."""
    out = dest / name
    with zipfile.ZipFile(out, "w") as zf:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as src:
                for n in src.namelist():
                    zf.writestr(f"python/{n}", src.read(n))
    return out


def test_layer_packages_count_as_shipped_and_their_size_and_versions_are_checked(
    project: Path, flask_build: Path, tmp_path: Path
) -> None:
    numlib = write_wheel(tmp_path / "w", "numlib", "1.26.4",
                         files={"numlib/blob.bin": "x" * (3 * 1024 * 1024)})
    layer = layer_zip(tmp_path, [numlib])
    (project / "requirements.txt").write_text("flask>=3\nnumlib==1.26.4\n")
    # Without the layer numlib is missing from the package.
    code, out = run(project, str(flask_build), "--runtime", PY)
    assert code == 1 and "numlib" in out
    code, out = run(project, str(flask_build), "--runtime", PY, "--layer", str(layer))
    assert code == 0, out
    assert "+ layer layer.zip 3.0 MB" in out
    (project / "requirements.txt").write_text("flask>=3\nnumlib==2.0\n")
    code, out = run(project, str(flask_build), "--runtime", PY, "--layer", str(layer))
    assert code == 1
    assert "numlib: the layer layer.zip provides 1.26.4, declared ==2.0" in out
    (project / "requirements.txt").write_text("flask>=3\nnumlib==1.26.4\n")
    (project / "pyproject.toml").write_text("[tool.drift-guard.lambda]\nmax-unzipped-mb = 4\n")
    code, out = run(project, str(flask_build), "--runtime", PY, "--layer", str(layer))
    assert code == 1
    assert "MB plus 3.0 MB of layers; the budget is 4 MB" in out


# --- runtime dates -----------------------------------------------------------------------


@pytest.mark.parametrize(("runtime", "today", "code", "expected"), [
    ("python3.10", datetime.date(2025, 12, 31), 0, ""),
    ("python3.10", datetime.date(2026, 1, 1), 0, "AWS Lambda deprecates it on 2026-06-30"),
    ("python3.10", datetime.date(2026, 6, 29), 0, "AWS Lambda deprecates it on 2026-06-30"),
    ("python3.10", datetime.date(2026, 6, 30), 0, "deprecated since 2026-06-30"),
    ("python3.10", datetime.date(2026, 7, 31), 0, "updates still work until 2026-08-31"),
    ("python3.10", datetime.date(2026, 8, 30), 0, "updates still work until 2026-08-31"),
    ("python3.10", datetime.date(2026, 8, 31), 1, "and updating them since 2026-08-31"),
    ("python3.7", SUPPORTED, 1, "an ancient runtime"),
    ("python3.15", SUPPORTED, 0, "runtime python3.15: unknown to drift-guard's runtime table"),
])
def test_runtime_dates_on_both_sides_of_each_boundary(
    project: Path, tmp_path: Path, runtime: str, today: datetime.date, code: int, expected: str
) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (project / "requirements.txt").write_text("")
    got, out = run(project, str(build), "--runtime", runtime, today=today)
    assert got == code, out
    if expected:
        assert expected in out
    else:
        assert "runtime" not in out.split("\n", 1)[1]


def test_configured_dates_override_the_table(project: Path, tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (project / "requirements.txt").write_text("")
    (project / "pyproject.toml").write_text(
        '[tool.drift-guard.lambda.runtimes."python3.12"]\nblock-update = 2026-01-01\n'
        'block-create = "2025-12-01"\ndeprecated = "2025-11-01"\n')
    code, out = run(project, str(build), "--runtime", "python3.12",
                    today=datetime.date(2026, 1, 1))
    assert code == 1
    assert "since 2026-01-01 (dates from the configuration)" in out
    (project / "pyproject.toml").write_text(
        '[tool.drift-guard.lambda.runtimes."python3.12"]\nblock-update = "soon"\n')
    code, out = run(project, str(build), "--runtime", "python3.12")
    assert code == 2
    assert out == ('drift-guard: error: pyproject.toml: [tool.drift-guard].lambda.runtimes.'
                   'python3.12.block-update must be an ISO date such as 2026-08-31\n')


# --- bad input, bombs and patterns ---------------------------------------------------------


def test_a_zip_bomb_is_refused_without_inflating_it(project: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    chunk = b"\0" * (16 * 1024 * 1024)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("bomb/_core.so", "w", force_zip64=True) as fh:
            for _ in range(64):  # 1 GiB of zeros, about 1 MB on disk
                fh.write(chunk)
        zf.writestr("bomb-1.0.dist-info/METADATA", "Name: bomb\nVersion: 1.0\n\n")
        zf.writestr("bomb-1.0.dist-info/RECORD", "bomb/_core.so,,\n")
    assert bomb.stat().st_size < 8 * 1024 * 1024
    (project / "requirements.txt").write_text("bomb==1.0\n")
    started = time.monotonic()
    code, out = run(project, str(bomb), "--runtime", "python3.12")
    assert time.monotonic() - started < 5
    assert code == 2
    assert "bomb.zip:bomb/_core.so: shared object unpacks to 1073741824 bytes" in out
    assert "refusing to inflate it" in out


def test_exclude_patterns_with_many_stars_match_in_linear_time() -> None:
    from drift_guard.aws_lambda.excludes import match_name, match_path

    name = "a" * 20000
    started = time.monotonic()
    assert not match_name(name, "*a" * 40 + "b")
    assert not match_path("/".join(["a"] * 200) + "/b", "/".join(["**"] * 40) + "/c")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("args", "message"), [
    ((), "name the Lambda runtime the package is for"),
    (("--runtime", "nodejs20.x"), "'nodejs20.x' is not a Lambda Python runtime"),
])
def test_bad_input_is_one_line_and_exit_2(project: Path, flask_build: Path,
                                          args: Tuple[str, ...], message: str) -> None:
    code, out = run(project, str(flask_build), *args)
    assert code == 2
    assert message in out and out.count("\n") == 1


def test_a_fifo_as_the_package_is_refused(project: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pkg.zip"
    os.mkfifo(fifo)
    code, out = run(project, str(fifo), "--runtime", "python3.12")
    assert code == 2
    assert "not a regular file or a directory" in out


# --- formats ------------------------------------------------------------------------------


def test_all_four_formats_carry_the_findings(project: Path, flask_build: Path) -> None:
    zipped = zip_tree(flask_build, project / "function.zip", skip=["werkzeug/test.py"])
    results: Dict[str, Tuple[int, str]] = {
        fmt: run(project, str(zipped), "--runtime", PY, "--format", fmt)
        for fmt in ("text", "json", "github", "markdown")}
    assert {code for code, _ in results.values()} == {1}
    doc = json.loads(results["json"][1])
    assert doc["ok"] is False
    assert doc["lambda"]["target"]["runtime"] == PY
    assert doc["lambda"]["target"]["dates"]["source"].startswith("https://docs.aws.amazon.com")
    assert [f["kind"] for f in doc["lambda"]["findings"]] == ["stripped"]
    assert doc["lambda"]["findings"][0]["path"] == "werkzeug/test.py"
    assert "::error title=drift-guard lambda%3A needed by the app%2C not in the package::" \
        in results["github"][1]
    assert "| stripped | werkzeug |" in results["markdown"][1]


def test_readme_example(project: Path, flask_build: Path) -> None:
    """The example in README.md's Lambda section, as printed."""
    zip_tree(flask_build, project / "function.zip", skip=["werkzeug/test.py"])
    (project / "requirements.txt").write_text("flask>=3\nboto3==1.40.0\n")
    code, out = run(project, "function.zip", "--runtime", PY)
    assert code == 1
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("<!-- lambda-example -->")
    block = readme[start:].split("```", 2)[1].split("\n", 1)[1]
    expected = "\n".join(ln for ln in block.splitlines() if not ln.startswith("$ "))
    # Sizes and versions depend on the packages installed here: compare the shape.
    def shape(text: str) -> List[str]:
        import re

        return [re.sub(r"[\d.]+", "N", ln) for ln in text.splitlines()]
    assert shape(out)[: len(shape(expected))] == shape(expected), out
