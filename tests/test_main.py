"""main() maps every outcome to the contract's exit codes, with one line for errors."""

from __future__ import annotations

import pytest

from drift_guard import __version__, cli, pipeline


def test_internal_error_is_exit_3_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRIFT_GUARD_DEBUG", raising=False)
    monkeypatch.setattr(pipeline, "check", broken)
    assert cli.main([]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error: ZeroDivisionError: boom" in err
    assert "Traceback" not in err


def test_debug_variable_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFT_GUARD_DEBUG", "1")
    monkeypatch.setattr(pipeline, "check", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main([])


def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--python", "a", "--venv", "b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("drift-guard: error: argument --venv: not allowed with argument --python")
    assert err.count("\n") == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"drift-guard {__version__}"


def test_help_names_every_contract_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for option in ("--python", "--venv", "--format", "--fix", "--diff", "--ignore",
                   "--require-pins", "--quiet"):
        assert option in out
    assert "Exit codes: 0 no drift, 1 drift found" in out


def test_ignore_takes_repeats_and_commas() -> None:
    assert cli._names(["a", "b,c", " d , "]) == ("a", "b", "c", "d")


def test_exit_zero_reports_drift_without_failing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from drift_guard.models import Environment, Finding, Report, Source

    env = Environment(str(tmp_path / ".venv"), None, "3.11.7", "./.venv", ())
    src = Source("requirements.txt", "requirements.txt", (), True, files=("requirements.txt",))
    drift = Report(env, (src,), (Finding("undeclared", "rich", "13.7.1", None),))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "check", lambda *a, **k: (drift, {}))
    assert cli.main([]) == 1
    assert cli.main(["--exit-zero"]) == 0
    assert "rich 13.7.1" in capsys.readouterr().out
