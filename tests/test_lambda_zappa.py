"""The Zappa callback judged for the runtime: the same aws_lambda checks as `drift-guard
lambda`, driven through `drift_guard.zappa.evaluate` with a stand-in for ZappaCLI over real
venvs (a real Python 3.12 venv for a python3.10 runtime) and real dist-info folders.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from drift_guard.errors import DriftGuardError
from drift_guard.zappa import check, evaluate
from tests.helpers import make_venv, pip, repack, requires_closure
from tests.test_zappa import FLASK_REQUIRES, PY, TODAY, FakeCli, fake_venv, zip_site_packages

PYENV_312 = Path("/root/.pyenv/versions")


def _python(version: str) -> str:
    found = sorted(PYENV_312.glob(f"{version}*/bin/python"))
    if not found:
        pytest.skip(f"no Python {version} under {PYENV_312}")
    return str(found[-1])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("flask>=3\n")
    monkeypatch.chdir(proj)
    return proj


WERKZEUG_FILES = ["werkzeug/__init__.py", "werkzeug/test.py", "werkzeug/testapp.py",
                  "werkzeug/routing/__init__.py"]
FLASK_ONLY = {"flask": "3.1.3", "werkzeug": "3.1.3"}


def _venv(tmp_path: Path, **more: str) -> Path:
    return fake_venv(tmp_path, {**FLASK_ONLY, **more}, files={"werkzeug": WERKZEUG_FILES},
                     requires=FLASK_REQUIRES)


# --- the runtime's Python -----------------------------------------------------------------


@pytest.mark.e2e
def test_a_312_venv_for_a_python310_runtime(tmp_path: Path, project: Path) -> None:
    """Real Python 3.12 venv, real anyio (repacked from this environment): on python3.10
    anyio needs exceptiongroup, which pip under 3.12 never installed."""
    pytest.importorskip("anyio")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for dist in requires_closure(["anyio"]):
        repack(dist, wheels)
    venv = make_venv(tmp_path / "venv312", python=_python("3.12"))
    pip(venv, "install", "anyio", find_links=wheels)
    (project / "requirements.txt").write_text('anyio\ntomli; python_version < "3.11"\n')
    cli = FakeCli(venv.path, command="deploy")
    cli.runtime = "python3.10"
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert outcome.report.ok  # the venv itself matches its declarations
    kinds = [(f.kind, f.name) for f in outcome.findings]
    assert ("python", "python3.10") in kinds
    assert ("needed", "exceptiongroup") in kinds
    # Declared for old Pythons only: the venv's drift check skips it, the runtime needs it.
    assert ("needed", "tomli") in kinds
    python = next(f for f in outcome.findings if f.kind == "python")
    assert python.message.startswith("the virtualenv runs Python 3.12.")
    assert "the Lambda runtime is python3.10" in python.message
    needed = next(f for f in outcome.findings if f.name == "exceptiongroup")
    assert "needs exceptiongroup on python3.10, and it is not installed" in needed.message
    # For the runtime it was built for, nothing to say.
    cli.runtime = "python3.12"
    assert evaluate(cli, phase="settings", today=TODAY).ok


# --- nested files and excludes -------------------------------------------------------------


def test_exclude_test_star_strips_werkzeug_test_py_predicted_and_found(
    tmp_path: Path, project: Path
) -> None:
    venv = _venv(tmp_path)
    cli = FakeCli(venv, stage_config={"exclude": ["test*"]})
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "werkzeug")]
    message = outcome.findings[0].message
    assert ("werkzeug 3.1.3: 2 of 7 files will not be in the package: werkzeug/test.py, "
            "werkzeug/testapp.py: the \"exclude\" setting 'test*' removes it") == message
    assert outcome.findings[0].hint == ("narrow the 'exclude' pattern 'test*' in zappa_settings "
                                        "so it spares werkzeug")
    # The zip phase finds the same files missing from the package itself.
    cli.zip_path = zip_site_packages(venv, project / "p.zip").name
    import zipfile

    with zipfile.ZipFile(project / "p.zip") as src, \
            zipfile.ZipFile(project / "q.zip", "w") as dst:
        for n in src.namelist():
            if n not in ("werkzeug/test.py", "werkzeug/testapp.py"):
                dst.writestr(n, src.read(n))
    cli.zip_path = "q.zip"
    outcome = evaluate(cli, phase="zip", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "werkzeug")]
    assert "2 of 7 files not in the package: werkzeug/test.py" in outcome.findings[0].message


def test_exclude_glob_double_star_is_predicted_at_settings_time_and_blamed(
    tmp_path: Path, project: Path
) -> None:
    venv = _venv(tmp_path)
    cli = FakeCli(venv, stage_config={"exclude_glob": ["werkzeug/routing/**"],
                                      "exclude": ["*.log"]})
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert [(f.kind, f.name) for f in outcome.findings] == [("stripped", "werkzeug")]
    assert ("werkzeug/routing/__init__.py: the \"exclude_glob\" setting 'werkzeug/routing/**' "
            "removes it") in outcome.findings[0].message


# --- boto3 and the runtime -----------------------------------------------------------


def test_a_pinned_boto3_excluded_is_a_finding_printed_once(tmp_path: Path, project: Path) -> None:
    click = pytest.importorskip("click")
    (project / "requirements.txt").write_text("flask>=3\nboto3==1.40.0\n")
    venv = _venv(tmp_path, boto3="1.40.0")
    cli = FakeCli(venv, stage_config={"exclude": ["boto3*"]})
    cli.runtime = PY
    messages = []
    for phase in ("settings", "zip"):
        if phase == "zip":
            cli.zip_path = zip_site_packages(venv, project / "p.zip", skip=(
                "boto3", "boto3-1.40.0.dist-info")).name
        outcome = evaluate(cli, phase=phase, today=TODAY)
        messages += [f.message for f in outcome.findings if f.kind == "provided"]
    assert len(messages) == 1
    assert messages[0] == (f"boto3==1.40.0 (requirements.txt:2) is left out of the package: {PY} "
                           "imports its own boto3, whose version AWS chooses, so the pin is not "
                           "honoured")
    # As Zappa calls it: exit 1 with the finding in the message.
    cli2 = FakeCli(venv, stage_config={"exclude": ["boto3*"]})
    with pytest.raises(click.ClickException) as info:
        check(cli2)
    assert info.value.message.count("is left out of the package") == 1


# --- runtime dates for deploy and update ---------------------------------------------------


@pytest.mark.parametrize(("command", "today", "stops"), [
    ("deploy", datetime.date(2026, 7, 30), False),
    ("deploy", datetime.date(2026, 7, 31), True),   # block-create
    ("update", datetime.date(2026, 8, 30), False),
    ("update", datetime.date(2026, 8, 31), True),   # block-update
    ("package", datetime.date(2026, 8, 30), False),
    ("package", datetime.date(2026, 8, 31), True),
])
def test_blocked_runtimes_stop_deploy_and_update(
    tmp_path: Path, project: Path, command: str, today: datetime.date, stops: bool
) -> None:
    venv = _venv(tmp_path)
    cli = FakeCli(venv, command=command,
                  stage_config={"drift_guard": {"lambda": {"python": "off"}}})
    cli.runtime = "python3.11"
    outcome = evaluate(cli, phase="settings", today=today)
    assert (not outcome.ok) is stops, outcome.findings
    if stops:
        assert outcome.findings[0].kind == "runtime"
    else:
        assert any("python3.11" in w for w in outcome.warnings)


def test_zappa_settings_override_runtime_dates(tmp_path: Path, project: Path) -> None:
    venv = _venv(tmp_path)
    settings = {"drift_guard": {"lambda": {"python": "off", "runtimes": {
        "python3.11": {"block-create": "2027-07-31", "block-update": "2027-08-31",
                       "deprecated": "2027-06-30"}}}}}
    cli = FakeCli(venv, command="update", stage_config=settings)
    cli.runtime = "python3.11"
    assert evaluate(cli, phase="settings", today=datetime.date(2026, 11, 30)).ok
    outcome = evaluate(cli, phase="settings", today=datetime.date(2027, 8, 31))
    assert [f.kind for f in outcome.findings] == ["runtime"]
    assert "(dates from the configuration)" in outcome.findings[0].message
    bad = FakeCli(venv, stage_config={"drift_guard": {"lambda": {"runtimes": {
        "python3.11": {"block-update": "31/08/2027"}}}}})
    with pytest.raises(DriftGuardError, match=r"dev.drift_guard.lambda.runtimes.python3.11."
                                              r"block-update must be an ISO date"):
        evaluate(bad, phase="settings", today=TODAY)


def test_ancient_runtime_stops(tmp_path: Path, project: Path) -> None:
    venv = _venv(tmp_path)
    cli = FakeCli(venv, stage_config={"drift_guard": {"lambda": {"python": "off"}}})
    cli.runtime = "python3.7"
    outcome = evaluate(cli, phase="settings", today=TODAY)
    assert [f.kind for f in outcome.findings] == ["runtime"]
    assert "an ancient runtime" in outcome.findings[0].message


# --- layers --------------------------------------------------------------------------------


def test_layers_setting_described_in_configuration(tmp_path: Path, project: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:numlib:3"
    (project / "requirements.txt").write_text("flask>=3\nnumlib==2.0\n")
    venv = _venv(tmp_path)
    settings = {"layers": [arn, "arn:aws:lambda:us-east-1:123456789012:layer:other:1"],
                "drift_guard": {"lambda": {"layers": {arn: {"provides": {"numlib": "1.26.4"},
                                                            "size-mb": 3}},
                                           "max_unzipped_mb": 3}}}
    cli = FakeCli(venv, stage_config=settings)
    outcome = evaluate(cli, phase="settings", today=TODAY)
    # numlib is not installed in the venv, but the layer brings it: not missing. The layer's
    # version differs from the declaration: a Lambda finding.
    assert outcome.report.ok, outcome.report.findings
    assert [(f.kind, f.name) for f in outcome.findings] == [("layer", "numlib")]
    assert "the layer arn:aws:lambda:us-east-1:123456789012:layer:numlib:3 provides 1.26.4, " \
           "declared ==2.0" in outcome.findings[0].message
    assert any("layer arn:aws:lambda:us-east-1:123456789012:layer:other:1: what it provides "
               "and its size are unknown" in w for w in outcome.warnings)
    cli.zip_path = zip_site_packages(venv, project / "p.zip").name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    size = [f for f in outcome.findings if f.kind == "size"]
    assert size and "plus 3.0 MB of layers; the budget is 3 MB" in size[0].message


# --- native code in the zip phase ------------------------------------------------------


def test_zip_phase_reads_shared_objects(tmp_path: Path, project: Path) -> None:
    from tests.test_zappa import dynload

    so = dynload("cmath")  # needs GLIBC_2.35 here: newer than any Lambda runtime's
    venv = fake_venv(tmp_path, {**FLASK_ONLY, "fastlib": "1.0"},
                     files={"fastlib": ["fastlib/__init__.py", "fastlib/_speed.so"]},
                     requires=FLASK_REQUIRES)
    sp = next(venv.glob("lib/python3*/site-packages"))
    (sp / "fastlib" / "_speed.so").write_bytes(so.read_bytes())
    (project / "requirements.txt").write_text("flask>=3\nfastlib==1.0\n")
    cli = FakeCli(venv)
    cli.zip_path = zip_site_packages(venv, project / "p.zip").name
    outcome = evaluate(cli, phase="zip", today=TODAY)
    from drift_guard.aws_lambda import elf

    needed = elf.read(so.read_bytes()).glibc
    if needed is None or needed <= (2, 34):
        pytest.skip("this machine's cmath needs no glibc newer than Lambda's")
    assert [(f.kind, f.name) for f in outcome.findings] == [("platform", "fastlib")]
    assert f"_speed.so needs GLIBC_{needed[0]}.{needed[1]}" in outcome.findings[0].message
