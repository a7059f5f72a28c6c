"""The Zappa integration: `drift_guard.zappa.check` as Zappa's settings / zip callback.

Fast tests drive `evaluate()` / `check()` with a stand-in for Zappa's `ZappaCLI` over real
dist-info folders and real zip files in tmp_path. The e2e tests run the real `zappa` (0.63) in
a real project venv, against a local moto server for deploy/update.

How the e2e project venv gets Zappa and Flask offline: pip cannot build a wheel from an
installed distribution, and `--system-site-packages` is no good because Zappa packages only the
venv's own site-packages. So the session repacks the distributions already installed in the
test environment (the closure of zappa and flask) into wheels -- their RECORD lists every file
-- writes drift-guard's own wheel from the source tree with `write_wheel`, and installs them
into a fresh venv with `pip install --no-index --find-links`. Nothing is downloaded.

The fixture project (fixtures/zappa-app) turns off `use_precompiled_packages` (that step asks
PyPI for manylinux wheels), Zappa's keep-warm, touch and API Gateway (moto need not emulate them).

Nothing reaches AWS or PyPI: every Zappa service endpoint points at the moto server
(`aws_endpoint_urls`), credentials are fake, and HTTP(S)_PROXY points at a closed port with
only 127.0.0.1 exempt, so anything else (Zappa's version check, a forgotten endpoint) fails
fast instead of going out.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

import pytest

from drift_guard.aws_lambda import checks, runtimes
from drift_guard.aws_lambda.artifact import MB, open_artifact
from drift_guard.aws_lambda.excludes import Exclude, stripping_exclude
from drift_guard.aws_lambda.target import LambdaOptions, lambda_options, make_target
from drift_guard.errors import DriftGuardError
from drift_guard.models import Installed
from drift_guard.zappa import evaluate, load_config
from tests.helpers import ROOT, Venv, make_venv, pip, repack, requires_closure, write_wheel

FIXTURE = ROOT / "fixtures" / "zappa-app"
TODAY = datetime.date(2025, 11, 22)
"""A day when every runtime from python3.10 on is supported and none is near its deprecation."""
PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
TARGET = make_target(PY, "x86_64", LambdaOptions())
SP = f"lib/{PY}/site-packages"


# --- a stand-in for zappa.cli.ZappaCLI ------------------------------------------------------


class FakeZappa:
    def __init__(self, venv: Optional[Path]) -> None:
        self.venv = venv

    def get_current_venv(self) -> Optional[Path]:
        return self.venv


class FakeCli:
    """The attributes of ZappaCLI the callback reads (zappa/cli.py 0.63)."""

    def __init__(self, venv: Optional[Path], command: str = "package",
                 stage_config: Optional[Dict[str, Any]] = None, **vargs: Any) -> None:
        self.command = command
        self.api_stage = "dev"
        self.vargs = {"zip": None, "docker_image_uri": None, "no_upload": False,
                      "settings_file": None, **vargs}
        self.stage_config = stage_config if stage_config is not None else {}
        self.runtime = PY
        self.architecture = "x86_64"
        self.zip_path: Optional[str] = None
        self.handler_path: Optional[str] = None
        self.zappa = FakeZappa(venv)


def fake_venv(root: Path, dists: Mapping[str, str], files: Mapping[str, List[str]] = {},
              requires: Mapping[str, List[str]] = {}) -> Path:
    """A venv as files: pyvenv.cfg and dist-info folders with METADATA, RECORD and the files
    RECORD lists (written too, so the package can be zipped from site-packages)."""
    prefix = root / "venv"
    sp = prefix / SP
    sp.mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\n"
        f"version = {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n"
    )
    for name, version in dists.items():
        info = sp / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        meta += [f"Requires-Dist: {r}" for r in requires.get(name, [])]
        (info / "METADATA").write_text("\n".join(meta) + "\n\n")
        (info / "WHEEL").write_text(
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        own = files.get(name, [f"{name.replace('-', '_')}/__init__.py"])
        for rel in own:
            (sp / rel).parent.mkdir(parents=True, exist_ok=True)
            (sp / rel).write_text("# code\n")
        rows = [*own, f"{info.name}/METADATA", f"{info.name}/WHEEL", f"{info.name}/RECORD"]
        (info / "RECORD").write_text("".join(f"{r},,\n" for r in rows))
    return prefix


def zip_site_packages(prefix: Path, dest: Path, skip: tuple = (),
                      extra: Mapping[str, str] = {}) -> Path:
    """A package as Zappa builds it: site-packages at the root, minus `skip` (top names)."""
    sp = prefix / SP
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(sp.rglob("*")):
            rel = path.relative_to(sp).as_posix()
            if path.is_file() and rel.split("/")[0] not in skip:
                zf.write(path, rel)
        for name, text in extra.items():
            zf.writestr(name, text)
    return dest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("flask>=3\n")
    monkeypatch.chdir(proj)
    return proj


FLASK = {"flask": "3.1.3", "werkzeug": "3.1.3", "zappa": "0.63.0", "boto3": "1.40.0",
         "docutils": "0.21.2"}
FLASK_REQUIRES = {"flask": ["werkzeug>=3"], "zappa": ["boto3"]}


# --- when the callback acts -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "tail", "undeploy", "invoke", "certify"])
def test_commands_that_build_no_package_are_left_alone(project: Path, command: str) -> None:
    # No venv at all: acting would raise; skipping must not look.
    outcome = evaluate(FakeCli(None, command=command), phase="settings", today=TODAY)
    assert outcome.phase == "skipped"
    assert outcome.ok


@pytest.mark.parametrize(("command", "varg", "value"), [
    ("deploy", "zip", "built-earlier.zip"),
    ("update", "zip", "built-earlier.zip"),
    ("deploy", "docker_image_uri", "123.dkr.ecr.us-east-1.amazonaws.com/app:1"),
    ("update", "docker_image_uri", "123.dkr.ecr.us-east-1.amazonaws.com/app:1"),
    ("update", "no_upload", True),
])
def test_ready_artifacts_and_no_upload_are_not_checked(
    project: Path, command: str, varg: str, value: Any
) -> None:
    cli = FakeCli(None, command=command, **{varg: value})
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert outcome.phase == "skipped"
    assert outcome.ok
    assert f"not checking zappa {command}" in outcome.summary


@pytest.mark.parametrize("command", ["deploy", "update", "package"])
def test_settings_phase_reports_a_hand_installed_package(
    tmp_path: Path, project: Path, command: str
) -> None:
    venv = fake_venv(tmp_path, {**FLASK, "leftpad": "1.0"}, requires=FLASK_REQUIRES)
    outcome = evaluate(FakeCli(venv, command=command), phase="settings", today=TODAY)
    assert not outcome.ok
    undeclared = [f.name for f in outcome.report.findings if f.kind == "undeclared"]
    # Zappa's own dependencies ship but are not the app's declarations.
    assert undeclared == ["docutils", "leftpad"]
    assert outcome.report.environment.found_by == "zappa"
    assert outcome.report.environment.prefix == str(venv)


def test_zappa_and_what_it_needs_are_never_undeclared(tmp_path: Path, project: Path) -> None:
    venv = fake_venv(tmp_path, {k: v for k, v in FLASK.items() if k != "docutils"},
                     requires=FLASK_REQUIRES)
    outcome = evaluate(FakeCli(venv), phase="settings", today=TODAY)
    assert outcome.ok, outcome.report.findings
    assert outcome.summary.startswith("drift-guard: no drift:")
    assert "found by zappa" in outcome.summary


def test_phase_comes_from_zappas_callback_call(tmp_path: Path) -> None:
    from drift_guard.zappa import _phase

    class Cli(FakeCli):
        def callback(self, position: str) -> str:
            return _phase(self)

    cli = Cli(None)
    # A package left by an earlier stage (zappa deploy --all) does not make this the zip phase.
    stale = tmp_path / "earlier-stage.zip"
    stale.write_bytes(b"")
    cli.zip_path = str(stale)
    assert cli.callback("settings") == "settings"
    assert cli.callback("zip") == "zip"
    # Called some other way: a package on disk means the zip phase.
    assert _phase(cli) == "zip"


def test_no_virtualenv_is_a_clear_error(project: Path) -> None:
    with pytest.raises(DriftGuardError, match="no virtualenv to package"):
        evaluate(FakeCli(None, command="deploy"), phase="settings", today=TODAY)


# --- configuration ----------------------------------------------------------------------


def test_stage_settings_override_pyproject_key_by_key(tmp_path: Path, project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.drift-guard]\nignore = ["leftpad"]\nrequire-pins = true\n'
        '[tool.drift-guard.lambda]\nmax-unzipped-mb = 100\nplatform = "warn"\n'
    )
    cli = FakeCli(None, stage_config={"drift-guard": {"require_pins": False,
                                                      "lambda": {"max_unzipped_mb": 50}}})
    cfg, options = load_config(cli, str(project))
    assert cfg.ignore == ("leftpad",)
    assert cfg.require_pins is False
    assert options.max_unzipped_mb == 50
    assert options.platform == "warn"


def test_bad_stage_setting_names_the_file_and_key(project: Path) -> None:
    (project / "zappa_settings.json").write_text("{}")
    cli = FakeCli(None, stage_config={"drift_guard": {"lambda": {"max_unzipped_mb": "big"}}})
    with pytest.raises(DriftGuardError) as info:
        load_config(cli, str(project))
    assert str(info.value) == (
        "zappa_settings.json: dev.drift_guard.lambda.max_unzipped_mb must be a positive number "
        "of megabytes, e.g. 250"
    )


def test_bad_lambda_option_in_pyproject_names_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.drift-guard.lambda]\nplatform = "loud"\n')
    with pytest.raises(DriftGuardError) as info:
        load_config(FakeCli(None), str(project))
    assert str(info.value) == ("pyproject.toml: [tool.drift-guard].lambda.platform must be one of "
                               "'error', 'warn', 'off'")


def test_both_spellings_of_the_settings_key_at_once_are_an_error(project: Path) -> None:
    cli = FakeCli(None, stage_config={"drift_guard": {}, "drift-guard": {}})
    with pytest.raises(DriftGuardError, match="keep one"):
        load_config(cli, str(project))


def test_unknown_lambda_option_lists_the_known_ones() -> None:
    with pytest.raises(DriftGuardError, match="known settings: max-unzipped-mb, runtime, "
                       "architecture, platform, python, runtimes, layers"):
        lambda_options({"max_zipped_mb": 1}, "dev.drift_guard.lambda")


# --- stripped packages ----------------------------------------------------------------------


def test_settings_phase_predicts_zappas_builtin_strip_of_a_declared_package(
    tmp_path: Path, project: Path
) -> None:
    (project / "requirements.txt").write_text("flask>=3\ndocutils==0.21.2\n")
    venv = fake_venv(tmp_path, FLASK, requires=FLASK_REQUIRES)
    cli = FakeCli(venv)
    excludes = [Exclude("docutils*", "Zappa's built-in exclude 'docutils*'", user=False)]
    findings = checks.contents([i for i in _installed(venv) if i.name == "docutils"],
                               checks.venv_reader, TARGET, None, excludes).findings
    assert [f.kind for f in findings] == ["stripped"]
    assert "Zappa's built-in exclude 'docutils*'" in findings[0].message
    # The callback finds Zappa's own list when Zappa is importable.
    pytest.importorskip("zappa.core", reason="zappa (a test extra) is not installed")
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "docutils")]


def test_user_exclude_that_strips_a_dependency_is_named(tmp_path: Path, project: Path) -> None:
    venv = fake_venv(tmp_path, {k: v for k, v in FLASK.items() if k != "docutils"},
                     requires=FLASK_REQUIRES)
    cli = FakeCli(venv, stage_config={"exclude": ["werk*"]})
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "werkzeug")]
    assert "the \"exclude\" setting 'werk*'" in outcome.findings[0].message


def test_excluding_unpinned_runtime_provided_boto3_is_a_note_not_a_finding(
    tmp_path: Path, project: Path
) -> None:
    (project / "requirements.txt").write_text("flask>=3\nboto3\n")
    venv = fake_venv(tmp_path, {k: v for k, v in FLASK.items() if k != "docutils"},
                     requires=FLASK_REQUIRES)
    outcome = evaluate(FakeCli(venv, stage_config={"exclude": ["boto3"]}), phase="settings",
                       today=TODAY)
    assert outcome.ok
    assert any(f"{PY} provides its own boto3" in n for n in outcome.notes)


def test_zip_phase_finds_what_the_package_lacks_and_names_the_pattern(
    tmp_path: Path, project: Path
) -> None:
    (project / "requirements.txt").write_text("flask>=3\n")
    venv = fake_venv(tmp_path, {k: v for k, v in FLASK.items() if k != "docutils"},
                     requires=FLASK_REQUIRES)
    package = zip_site_packages(venv, project / "driftdemo-dev-1.zip", skip=("werkzeug",))
    cli = FakeCli(venv, stage_config={"exclude_glob": ["werkzeug"]})
    cli.zip_path = package.name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "werkzeug")]
    assert "werkzeug/__init__.py: the \"exclude_glob\" setting 'werkzeug' removes it" \
        in outcome.findings[0].message


def test_zip_phase_passes_a_complete_package(tmp_path: Path, project: Path) -> None:
    venv = fake_venv(tmp_path, {k: v for k, v in FLASK.items() if k != "docutils"},
                     requires=FLASK_REQUIRES)
    cli = FakeCli(venv)
    cli.zip_path = zip_site_packages(venv, project / "driftdemo-dev-1.zip").name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert outcome.ok, outcome.findings
    assert "package ok: driftdemo-dev-1.zip ships the 2 packages the app needs" in outcome.summary


def test_another_version_in_the_package_is_reported_as_replaced(
    tmp_path: Path, project: Path
) -> None:
    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3"}, requires=FLASK_REQUIRES)
    package = zip_site_packages(
        venv, project / "p.zip", skip=("werkzeug-3.1.3.dist-info",),
        extra={"werkzeug-3.0.0.dist-info/METADATA": "Name: werkzeug\nVersion: 3.0.0\n"})
    findings = checks.contents(_installed(venv), checks.venv_reader, TARGET,
                               open_artifact(str(package))).findings
    assert [(f.kind, f.name) for f in findings] == [("replaced", "werkzeug")]
    assert "installed 3.1.3, the package ships 3.0.0" in findings[0].message


def test_namespace_packages_are_checked_below_the_shared_directory(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path, {"google-cloud-core": "2.4.1", "six": "1.17.0"},
                     files={"google-cloud-core": ["google/cloud/core/__init__.py"],
                            "six": ["six.py"]})
    dists = {d.name: d for d in _installed(venv) if d.name != "six"}
    package = tmp_path / "p.zip"
    with zipfile.ZipFile(package, "w") as zf:
        for info in ("google_cloud_core-2.4.1.dist-info", "six-1.17.0.dist-info"):
            zf.writestr(f"{info}/METADATA", "")
        zf.writestr("google/other/__init__.py", "")  # another distribution's part of "google"
        zf.writestr("six.pyc", "")  # Zappa may ship only the .pyc: six still imports
    findings = checks.contents(list(dists.values()), checks.venv_reader, TARGET,
                               open_artifact(str(package))).findings
    assert [(f.kind, f.name) for f in findings] == [("stripped", "google-cloud-core")]
    assert "google/cloud/core/__init__.py" in findings[0].message


def test_editable_install_outside_the_project_ships_only_a_pointer(
    tmp_path: Path, project: Path
) -> None:
    (project / "requirements.txt").write_text("flask>=3\nmylib\n")
    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3", "mylib": "1.0"},
                     files={"mylib": ["__editable__.mylib-1.0.pth"]}, requires=FLASK_REQUIRES)
    info = venv / SP / "mylib-1.0.dist-info"
    (info / "top_level.txt").write_text("mylib\n")
    (info / "direct_url.json").write_text(
        json.dumps({"url": "file:///src/mylib", "dir_info": {"editable": True}}))
    cli = FakeCli(venv)
    cli.zip_path = zip_site_packages(venv, project / "p.zip").name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("editable", "mylib")]
    assert "from file:///src/mylib" in outcome.findings[0].message
    # Its code inside the project directory ships with the project: nothing to report.
    zip_site_packages(venv, project / "p.zip", extra={"mylib/__init__.py": ""})
    assert evaluate(cli, phase="zip", today=TODAY).ok


def test_glob_excludes_match_like_zappas_path_glob() -> None:
    ex = Exclude("**/tests", "glob", glob=True)
    assert stripping_exclude("pkg/tests", [ex]) is ex
    assert stripping_exclude("tests", [ex]) is ex
    assert stripping_exclude("pkg/tests/test_x.py", [ex]) is ex
    assert stripping_exclude("pkg", [ex]) is None
    star = Exclude("docutils*", "name")
    assert stripping_exclude("docutils-0.21.2.dist-info", [star]) is star
    # Name patterns apply at every depth, as shutil.ignore_patterns does.
    assert stripping_exclude("google/docutils_ext", [star]) is star


# --- size, runtime, platform ---------------------------------------------------------------


def test_unzipped_size_over_budget_is_a_finding(tmp_path: Path, project: Path) -> None:
    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3"}, requires=FLASK_REQUIRES)
    package = zip_site_packages(venv, project / "p.zip",
                                extra={"data/blob.bin": "x" * (2 * MB)})
    cli = FakeCli(venv, stage_config={"drift_guard": {"lambda": {"max-unzipped-mb": 1}}})
    cli.zip_path = package.name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert [f.kind for f in outcome.findings] == ["size"]
    assert "unzips to 2.0 MB; the budget is 1 MB" in outcome.findings[0].message


def test_slim_handler_budget_applies_to_the_handler_and_tmp_to_the_archive(
    tmp_path: Path, project: Path
) -> None:
    import tarfile

    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3"}, requires=FLASK_REQUIRES)
    archive = project / "driftdemo-dev-1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(venv / SP, arcname=".")
        blob = tmp_path / "blob.bin"
        blob.write_bytes(b"\0" * (3 * MB))
        tar.add(blob, arcname="./data/blob.bin")
    handler = project / "handler_driftdemo-dev-1.zip"
    with zipfile.ZipFile(handler, "w") as zf:
        zf.writestr("handler.py", "x" * 100)
    cli = FakeCli(venv, stage_config={"slim_handler": True, "ephemeral_storage": {"Size": 2},
                                      "drift_guard": {"lambda": {"max_unzipped_mb": 1}}})
    cli.zip_path, cli.handler_path = archive.name, handler.name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert [f.kind for f in outcome.findings] == ["size"]
    assert ("the project archive (unpacked in /tmp) unzips to 3.0 MB; the function's /tmp "
            "holds 2 MB") in outcome.findings[0].message


@pytest.mark.parametrize(("runtime", "today", "expected"), [
    ("python3.11", datetime.date(2026, 11, 22), "blocks creating functions on it since 2026-07-31 "
                                                "and updating them since 2026-08-31"),
    ("python3.10", datetime.date(2026, 7, 1),
     "deprecated since 2026-06-30 (no more security patches)"),
    ("python3.12", datetime.date(2028, 6, 1), "deprecates it on 2028-10-31"),
    ("python3.9", datetime.date(2026, 11, 22), "deprecated since 2025-12-15"),
])
def test_runtime_deprecation_dates_come_from_one_table(runtime: str, today: datetime.date,
                                                      expected: str) -> None:
    problem = runtimes.verdict(runtimes.lookup(runtime), today, "update")
    assert problem is not None
    assert expected in problem.message
    assert runtimes.verdict(runtimes.lookup("python3.13"), TODAY, "update") is None


def test_deprecated_runtime_warns_by_default_and_stops_when_asked(
    tmp_path: Path, project: Path
) -> None:
    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3"}, requires=FLASK_REQUIRES)
    deprecated = datetime.date(2026, 7, 1)  # python3.10: deprecated, not yet blocked
    cli = FakeCli(venv, stage_config={"drift_guard": {"lambda": {"python": "off"}}})
    cli.runtime = "python3.10"
    outcome = evaluate(cli, phase="settings", today=deprecated)
    assert outcome.ok
    assert len(outcome.warnings) == 1
    assert "python3.10" in outcome.warnings[0]
    # Once per run: the zip phase of the same ZappaCLI does not repeat it.
    cli.zip_path = zip_site_packages(venv, project / "p.zip").name
    assert evaluate(cli, phase="zip", today=deprecated).warnings == ()

    strict = FakeCli(venv, stage_config={"drift_guard": {"lambda": {"runtime": "error",
                                                                    "python": "off"}}})
    strict.runtime = "python3.10"
    outcome = evaluate(strict, phase="settings", today=deprecated)
    assert [f.kind for f in outcome.findings] == ["runtime"]


def dynload(module: str) -> Path:
    """This interpreter's own extension module `module` (lib-dynload), a real ELF file."""
    import glob

    found = sorted(glob.glob(os.path.join(sys.base_prefix, "lib", "python3*", "lib-dynload",
                                          f"{module}.cpython-*.so")))
    if not found:
        pytest.skip(f"no {module} extension module in {sys.base_prefix}")
    return Path(found[0])


def tiny_elf(arch: str = "x86_64") -> bytes:
    """A real shared object needing no versioned glibc symbol, from this interpreter's own
    extension modules; for arm64 the same bytes with e_machine set to aarch64."""
    path = dynload("_bisect")
    data = bytearray(Path(path).read_bytes())
    if arch == "arm64":
        data[18:20] = (183).to_bytes(2, "little")
    return bytes(data)


def _native_wheel(tag: str) -> str:
    return f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n"


@pytest.mark.parametrize(("tag", "runtime", "arch", "fits"), [
    ("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", "python3.12", "x86_64", True),
    ("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "python3.12", "x86_64", False),
    ("cp312-cp312-manylinux_2_17_aarch64", "python3.12", "x86_64", False),
    ("cp312-cp312-manylinux_2_17_aarch64", "python3.12", "arm64", True),
    ("cp39-abi3-manylinux_2_28_x86_64", "python3.12", "x86_64", True),
    ("cp39-abi3-manylinux_2_28_x86_64", "python3.11", "x86_64", False),  # AL2: glibc 2.26
    ("cp312-cp312-macosx_11_0_arm64", "python3.12", "arm64", False),
    ("cp312-cp312-musllinux_1_2_x86_64", "python3.12", "x86_64", False),
    ("py3-none-any", "python3.12", "x86_64", True),
])
def test_native_wheels_must_match_lambdas_python_and_platform(
    tmp_path: Path, tag: str, runtime: str, arch: str, fits: bool
) -> None:
    package = tmp_path / "p.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("native-1.0.dist-info/WHEEL", _native_wheel(tag))
        zf.writestr("native/_speedups.so", tiny_elf(arch))
    target = make_target(runtime, arch, LambdaOptions())
    findings = checks.platform_findings(open_artifact(str(package)), target, {})
    assert (findings == []) is fits
    if not fits:
        assert findings[0].kind == "platform"
        assert runtime in findings[0].message


# --- the callback as Zappa calls it ---------------------------------------------------------


def test_check_raises_click_exception_with_the_report(tmp_path: Path, project: Path) -> None:
    click = pytest.importorskip("click")
    from drift_guard.zappa import check

    venv = fake_venv(tmp_path, {"flask": "3.1.3", "werkzeug": "3.1.3", "leftpad": "1.0"},
                     requires=FLASK_REQUIRES)
    cli = FakeCli(venv, command="deploy")
    cli.runtime = "python3.13"
    with pytest.raises(click.ClickException) as info:
        check(cli)
    message = info.value.message
    assert "undeclared: installed, not declared" in message
    assert "leftpad 1.0" in message
    assert "zappa deploy stopped by drift-guard before anything was built" in message


def test_check_turns_bad_input_into_one_line(tmp_path: Path, project: Path) -> None:
    click = pytest.importorskip("click")
    from drift_guard.zappa import check

    venv = fake_venv(tmp_path, {"flask": "3.1.3"})
    cli = FakeCli(venv, stage_config={"drift_guard": {"ignore": 3}})
    with pytest.raises(click.ClickException) as info:
        check(cli)
    assert info.value.message == (
        "drift-guard: zappa_settings: dev.drift_guard.ignore must be a list of strings")


def test_importing_the_module_needs_neither_zappa_nor_click() -> None:
    code = ("import sys; sys.modules['click'] = None; sys.modules['zappa'] = None\n"
            "import drift_guard.zappa, drift_guard.aws_lambda.checks, drift_guard.aws_lambda.command\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def _installed(prefix: Path) -> List[Installed]:
    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed

    return list(list_installed(environment_at(str(prefix), "test")).values())


# === end to end: the real Zappa ============================================================


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("zappa")
    pytest.importorskip("flask")
    dest = tmp_path_factory.mktemp("wheelhouse")
    for dist in requires_closure(["zappa", "flask"]):
        repack(dist, dest)
    # The package's code and its data files (e.g. the standard-library module lists).
    sources = {p.relative_to(ROOT).as_posix(): p.read_text()
               for p in (ROOT / "drift_guard").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    from drift_guard import __version__

    write_wheel(dest, "drift-guard", __version__, requires=["packaging>=24"], modules=[],
                files=sources)
    for dist in requires_closure(["packaging"]):
        repack(dist, dest)
    return dest


@pytest.fixture(scope="session")
def app_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Venv:
    venv = make_venv(tmp_path_factory.mktemp("appenv") / "venv")
    pip(venv, "install", "zappa", "flask", "drift-guard", find_links=wheelhouse)
    return venv


@pytest.fixture
def hand_installed(app_venv: Venv, tmp_path: Path) -> Iterator[List[str]]:
    """Wheels installed into the shared app venv by a test, uninstalled afterwards."""
    names: List[str] = []
    yield names
    if names:
        pip(app_venv, "uninstall", "-y", *names)


def _install(app_venv: Venv, tmp_path: Path, names: List[str], name: str, version: str) -> None:
    write_wheel(tmp_path / "hand", name, version)
    pip(app_venv, "install", name, find_links=tmp_path / "hand")
    names.append(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("moto.server")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto server did not start: {log.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SERVICES = ("acm", "apigateway", "cloudformation", "cloudwatch", "cognito-idp", "dynamodb",
            "efs", "elbv2", "events", "iam", "lambda", "logs", "route53", "s3", "sns", "sts")
"""Every boto client Zappa 0.63 makes (zappa/core.py), all pointed at moto."""

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


def _aws(moto: str, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=moto, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


FAR_DATES = {"deprecated": "2099-01-01", "block-create": "2099-02-01",
             "block-update": "2099-03-01"}


def make_project(tmp_path: Path, name: str, moto: Optional[str] = None,
                 callbacks: tuple = ("settings", "zip"), requirements: Optional[str] = None,
                 real_dates: bool = False, **settings: Any) -> Path:
    proj = tmp_path / name
    shutil.copytree(FIXTURE, proj)
    data = json.loads((proj / "zappa_settings.json").read_text())
    stage = data["dev"]
    stage["project_name"] = name
    stage["s3_bucket"] = f"{name}-bucket"
    stage["callbacks"] = dict.fromkeys(callbacks, "drift_guard.zappa.check")
    if moto:
        stage["aws_endpoint_urls"] = dict.fromkeys(SERVICES, moto)
    stage.update(settings)
    if real_dates is False:
        # The test Python's runtime may be past its block dates on the day the tests run;
        # these tests are about something else, so its dates are moved (as a user would when
        # AWS extends them). The runtime tests keep the real table.
        lam = stage.setdefault("drift_guard", {}).setdefault("lambda", {})
        lam.setdefault("runtimes", {})[stage.get("runtime", PY)] = FAR_DATES
    (proj / "zappa_settings.json").write_text(json.dumps(data, indent=4))
    if requirements is not None:
        (proj / "requirements.txt").write_text(requirements)
    return proj


def run_zappa(app_venv: Venv, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`zappa ARGS` as a user with the venv activated runs it, with AWS faked and the network
    closed (see the module docstring)."""
    home = project.parent / f"{project.name}-home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PIP_", "VIRTUAL_ENV", "CONDA", "DRIFT_GUARD", "PYTHON"))
           and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env.update(AWS_ENV)
    env.update({
        "VIRTUAL_ENV": str(app_venv.path),
        "PATH": f"{app_venv.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        "NO_COLOR": "1",
    })
    return subprocess.run([str(app_venv.bin / "zappa"), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_zappa_package_of_a_clean_project_succeeds(app_venv: Venv, tmp_path: Path) -> None:
    proj = make_project(tmp_path, "cleanpkg")
    result = run_zappa(app_venv, proj, "package", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "drift-guard: no drift:" in out
    assert "found by zappa" in out
    assert "drift-guard: package ok: cleanpkg-dev-" in out
    # Where the megabytes are: botocore, which the runtime brings anyway, leads.
    assert re.search(r"largest: botocore [\d.]+ MB \(runtime-provided\)", out), out
    assert "Package created" in out


@pytest.mark.e2e
def test_zappa_package_stops_on_a_hand_installed_package(
    app_venv: Venv, tmp_path: Path, hand_installed: List[str]
) -> None:
    _install(app_venv, tmp_path, hand_installed, "left-pad-tool", "1.0.2")
    proj = make_project(tmp_path, "handpkg")
    result = run_zappa(app_venv, proj, "package", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "left-pad-tool 1.0.2" in out
    assert "undeclared" in out
    assert "Traceback" not in out
    assert "stopped by drift-guard before anything was built" in out
    assert not list(proj.glob("*.zip")), "the settings callback stops before packaging"


@pytest.mark.e2e
def test_zip_callback_alone_opens_the_package(
    app_venv: Venv, tmp_path: Path, hand_installed: List[str]
) -> None:
    # docutils* is in Zappa's built-in excludes: declared, installed, and silently not shipped.
    _install(app_venv, tmp_path, hand_installed, "docutils", "0.99")
    proj = make_project(
        tmp_path, "zipcheck", callbacks=("zip",), requirements="flask>=3.0\ndocutils==0.99\n",
        runtime="python3.13" if PY != "python3.13" else "python3.12",
        drift_guard={"lambda": {"max_unzipped_mb": 1}},
    )
    result = run_zappa(app_venv, proj, "package", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    assert re.search(r"docutils 0\.99: \d+ of \d+ files not in the package: docutils\S+, .*: "
                     r"Zappa's built-in exclude 'docutils\*' removes it", out), out
    # The virtualenv's Python is not the runtime's: a finding of its own, naming both.
    assert f"the virtualenv runs Python {sys.version.split()[0]}, the Lambda runtime is " in out
    # markupsafe (Flask's) was built for this Python, not the runtime's.
    assert "platform: native code Lambda cannot load" in out
    assert "markupsafe" in out
    assert "the budget is 1 MB" in out
    assert "zappa package stopped by drift-guard" in out


@pytest.mark.e2e
def test_zappa_package_with_a_nested_exclude_stops_naming_the_file(
    app_venv: Venv, tmp_path: Path
) -> None:
    # "test*" also matches werkzeug/test.py: `import flask` fails on Lambda without it.
    proj = make_project(tmp_path, "nestedpkg", exclude=["*.log", "test*"])
    result = run_zappa(app_venv, proj, "package", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    assert re.search(r"(?i:werkzeug) [\d.]+: \d+ of \d+ files will not be in the package: "
                     r"werkzeug/test\.py, werkzeug/testapp\.py: the \"exclude\" setting 'test\*' "
                     r"removes it", out), out
    # Flask's own flask/testing.py goes the same way.
    assert "flask/testing.py: the \"exclude\" setting 'test*' removes it" in out
    assert "stopped by drift-guard before anything was built" in out


@pytest.mark.e2e
def test_zappa_package_on_a_runtime_past_its_block_dates_stops(
    app_venv: Venv, tmp_path: Path
) -> None:
    from drift_guard.aws_lambda import runtimes as rt

    info = rt.lookup(PY)
    today = datetime.date.today()
    if info.block_update is None or today < info.block_update:
        pytest.skip(f"{PY} is not blocked today")
    proj = make_project(tmp_path, "blockedpkg", real_dates=True)
    result = run_zappa(app_venv, proj, "package", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert f"runtime {PY}: AWS Lambda blocks creating functions on it since " \
           f"{info.block_create} and updating them since {info.block_update}" in out


@pytest.fixture(scope="session")
def deployed(
    app_venv: Venv, moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Dict[str, Any]:
    """A clean project deployed to moto: the starting point of the update test."""
    tmp = tmp_path_factory.mktemp("deployed")
    proj = make_project(tmp, "cleandeploy", moto=moto_url, callbacks=("zip",))
    result = run_zappa(app_venv, proj, "deploy", "dev")
    return {"project": proj, "result": result}


@pytest.mark.e2e
def test_clean_deploy_goes_through(deployed: Dict[str, Any], moto_url: str) -> None:
    result = deployed["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "drift-guard: package ok" in result.stdout
    fn = _aws(moto_url, "lambda").get_function(FunctionName="cleandeploy-dev")
    assert fn["Configuration"]["CodeSize"] > 0


@pytest.mark.e2e
def test_deploy_with_drift_uploads_nothing_and_creates_no_function(
    app_venv: Venv, moto_url: str, tmp_path: Path, hand_installed: List[str]
) -> None:
    _install(app_venv, tmp_path, hand_installed, "left-pad-tool", "1.0.2")
    proj = make_project(tmp_path, "driftdeploy", moto=moto_url)
    s3 = _aws(moto_url, "s3")
    s3.create_bucket(Bucket="driftdeploy-bucket")
    s3.put_bucket_versioning(Bucket="driftdeploy-bucket",
                             VersioningConfiguration={"Status": "Enabled"})
    result = run_zappa(app_venv, proj, "deploy", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "left-pad-tool 1.0.2" in out
    assert "Traceback" not in out
    # Versioning keeps a trace of anything uploaded and then cleaned up.
    # (A delete marker would not mean an upload: Zappa's cleanup deletes the key blindly.)
    assert not s3.list_object_versions(Bucket="driftdeploy-bucket").get("Versions")
    names = [f["FunctionName"] for f in _aws(moto_url, "lambda").list_functions()["Functions"]]
    assert "driftdeploy-dev" not in names
    # The settings callback runs before Zappa's first AWS call: not even the IAM role exists.
    roles = [r["RoleName"] for r in _aws(moto_url, "iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith("driftdeploy")]
    assert "before anything was built or sent to AWS" in out


@pytest.mark.e2e
def test_update_with_drift_leaves_the_function_unchanged(
    app_venv: Venv, moto_url: str, deployed: Dict[str, Any], tmp_path: Path,
    hand_installed: List[str],
) -> None:
    assert deployed["result"].returncode == 0, deployed["result"].stdout + deployed["result"].stderr
    lam = _aws(moto_url, "lambda")
    before = lam.get_function(FunctionName="cleandeploy-dev")["Configuration"]
    s3 = _aws(moto_url, "s3")
    s3.put_bucket_versioning(Bucket="cleandeploy-bucket",
                             VersioningConfiguration={"Status": "Enabled"})
    listing = s3.list_object_versions(Bucket="cleandeploy-bucket")
    old = {v["VersionId"] for v in listing.get("Versions", [])}

    _install(app_venv, tmp_path, hand_installed, "left-pad-tool", "1.0.2")
    # The zip callback alone: the check runs after Zappa's IAM calls, right before the upload.
    result = run_zappa(app_venv, deployed["project"], "update", "dev")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "left-pad-tool 1.0.2" in out
    assert "Traceback" not in out
    assert "before the upload" in out
    after = lam.get_function(FunctionName="cleandeploy-dev")["Configuration"]
    assert after["CodeSha256"] == before["CodeSha256"]
    assert after["LastModified"] == before["LastModified"]
    listing = s3.list_object_versions(Bucket="cleandeploy-bucket")
    assert not {v["VersionId"] for v in listing.get("Versions", [])} - old
