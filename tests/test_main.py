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


def test_error_lines_are_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from drift_guard.errors import DriftGuardError

    def bad(*_a: object, **_k: object) -> None:
        raise DriftGuardError("not a requirement", path="x\n::add-mask::\x1b[2Jreq.txt", line=3)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "check", bad)
    assert cli.main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "drift-guard: error: x\\x0a::add-mask::\\x1b[2Jreq.txt:3: not a requirement\n"


@pytest.mark.parametrize(
    "args", [["--format", "github"], ["--format=github"], ["--form", "github"]]
)
def test_bad_input_under_github_format_is_also_an_error_annotation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path, args
) -> None:
    from drift_guard.errors import DriftGuardError

    def bad(*_a: object, **_k: object) -> None:
        raise DriftGuardError("bad line, 100% wrong", path="a\r\nb::c.txt", line=2)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "check", bad)
    assert cli.main(args) == 2
    out, err = capsys.readouterr()
    assert out == "::error title=drift-guard::error: a%0D%0Ab::c.txt:2: bad line, 100%25 wrong\n"
    assert err == "drift-guard: error: a\\x0d\\x0ab::c.txt:2: bad line, 100% wrong\n"


def test_usage_error_under_github_format_is_an_annotation_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--format", "github", "--python", "a", "--venv", "b"]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("::error title=drift-guard::error: argument --venv: not allowed")
    assert out.count("\n") == 1
    assert err.count("\n") == 1


def test_bad_input_in_other_formats_leaves_stdout_empty(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from drift_guard.errors import DriftGuardError

    def bad(*_a: object, **_k: object) -> None:
        raise DriftGuardError("nope", path="r.txt")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "check", bad)
    for fmt in ("text", "json", "markdown"):
        assert cli.main(["--format", fmt]) == 2
        assert capsys.readouterr().out == ""
