"""Zappa integration: stop `zappa deploy` / `update` / `package` on drift, before the upload.

In zappa_settings.json::

    "callbacks": {"settings": "drift_guard.zappa.check", "zip": "drift_guard.zappa.check"}

As the `settings` callback it runs before any AWS call and checks the virtualenv Zappa packages
against the project's declarations (as the CLI does, from Zappa's working directory) and the
exclude patterns that would strip a needed package. As the `zip` callback it does that again
(a prebuild_script may have installed something) and also opens the built package: every
needed package ships, the unzipped size fits, native code suits Lambda's runtime.

Zappa calls `check(zappa_cli)` with its `ZappaCLI`; a ClickException makes Zappa print the
message and exit 1 without a traceback. Importing this module needs neither Zappa nor click.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from drift_guard.errors import DriftGuardError

if TYPE_CHECKING:
    from drift_guard.config import Config
    from drift_guard.lambda_checks import ArtifactFinding, Exclude, LambdaOptions
    from drift_guard.models import Installed, Report

ACTING_COMMANDS = ("deploy", "update", "package")
"""The Zappa commands that build a package; every other command is left alone."""

PACKAGED_BY_ZAPPA = ("zappa",)
"""Installed in the venv for Zappa's sake, packaged, and not the app's declarations: Zappa and
what it needs are never undeclared (pip, setuptools, wheel and drift-guard never are)."""

SETTINGS_KEYS = ("drift_guard", "drift-guard")

_STATE = "_drift_guard_state"


class Outcome(NamedTuple):
    """What one callback found; `check` prints it or raises it."""

    phase: str
    """"settings", "zip", or "skipped"."""
    report: Optional[Report] = None
    findings: Tuple[ArtifactFinding, ...] = ()
    """Problems with the package (stripped packages, size, platform, runtime)."""
    warnings: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    summary: str = ""
    """The line printed when all is well (or why nothing was checked)."""
    title: str = ""
    """How the package findings are introduced."""

    @property
    def ok(self) -> bool:
        return (self.report is None or not self.report.fails) and not self.findings


def check(zappa_cli: Any) -> None:
    """The Zappa callback (`settings` and/or `zip`): raise `click.ClickException` on drift.

    Bad input (a malformed requirements file, a bad `drift_guard` setting) is a
    ClickException with one clear line too; so is an internal error (set DRIFT_GUARD_DEBUG=1
    for its traceback).
    """
    from click import ClickException, echo  # Zappa's own dependency: present when it calls us

    try:
        outcome = evaluate(zappa_cli)
    except DriftGuardError as exc:
        raise ClickException(f"drift-guard: {exc}") from None
    except ClickException:
        raise
    except Exception as exc:
        if os.environ.get("DRIFT_GUARD_DEBUG"):
            raise
        raise ClickException(
            f"drift-guard: internal error: {type(exc).__name__}: {exc} "
            "(please report it; set DRIFT_GUARD_DEBUG=1 for the traceback)"
        ) from None

    for warning in outcome.warnings:
        echo(f"drift-guard: warning: {warning}", err=True)
    if not outcome.ok:
        raise ClickException(render(outcome, getattr(zappa_cli, "command", None) or "zappa"))
    if outcome.summary:
        echo(outcome.summary)
    for note in outcome.notes:
        echo(f"drift-guard: note: {note}")


def render(outcome: Outcome, command: str) -> str:
    """The message Zappa prints when the check fails: the CLI's drift report, then the
    package's problems, then what happened to the command."""
    from drift_guard.pipeline import render as render_report
    from drift_guard.lambda_checks import render as render_findings

    parts: List[str] = []
    if outcome.report is not None and outcome.report.fails:
        parts.append(render_report(outcome.report, "text"))
    if outcome.findings:
        parts.append(render_findings(outcome.findings, outcome.title))
    parts.extend(f"note: {n}\n" for n in outcome.notes)
    if outcome.phase == "settings":
        parts.append(f"zappa {command} stopped by drift-guard before anything was built or sent "
                     "to AWS.")
    elif command == "package":
        parts.append("zappa package stopped by drift-guard; the package was left for inspection.")
    else:
        parts.append(f"zappa {command} stopped by drift-guard before the upload: nothing was "
                     "uploaded and the function is unchanged.")
    return "".join(parts).rstrip("\n")


def evaluate(
    zappa_cli: Any, *, phase: Optional[str] = None, today: Optional[datetime.date] = None
) -> Outcome:
    """Run the checks for `zappa_cli` (a `zappa.cli.ZappaCLI`) without printing.

    `phase` ("settings" or "zip") is found from Zappa's call when not given.
    """
    command = getattr(zappa_cli, "command", None)
    if command not in ACTING_COMMANDS:
        return Outcome("skipped")
    vargs = getattr(zappa_cli, "vargs", None) or {}
    for key, why in (("zip", "it deploys a package built earlier"),
                     ("docker_image_uri", "it deploys a Docker image"),
                     ("no_upload", "it uploads nothing")):
        if vargs.get(key):
            return Outcome("skipped", summary=f"drift-guard: not checking zappa {command}: {why}")
    if phase is None:
        phase = _phase(zappa_cli)
    today = today or datetime.date.today()

    cwd = os.getcwd()
    cfg, options = load_config(zappa_cli, cwd)
    env = _environment(zappa_cli)

    from drift_guard.pipeline import check as check_drift

    report, installed = check_drift(cfg, cwd=cwd, environment=env, allow=PACKAGED_BY_ZAPPA)
    needed = must_ship(report, installed, cfg, cwd)
    state = _state(zappa_cli)

    stage = getattr(zappa_cli, "api_stage", None)
    runtime = str(getattr(zappa_cli, "runtime", None) or _local_runtime())
    architecture = str(getattr(zappa_cli, "architecture", None) or "x86_64")
    findings, warnings = _runtime_check(runtime, today, command, options)
    if warnings:
        # Both callbacks see the same runtime: say it once per stage.
        if ("runtime", stage) in state:
            warnings = []
        state.add(("runtime", stage))

    from drift_guard import lambda_checks as lc

    excludes = _excludes(zappa_cli)
    if phase == "settings":
        predicted, notes = lc.predict_stripped(needed, excludes)
        state.add(("reported", stage))
        return Outcome(phase, report, (*findings, *predicted), tuple(warnings), tuple(notes),
                       summary=_report_line(report),
                       title=f"for the Lambda package of stage {stage}")

    package, handler = _package_paths(zappa_cli, cwd)
    artifact = lc.open_artifact(package)
    found, notes = lc.check_contents(artifact, needed, excludes)
    if options.platform != "off":
        native = lc.check_platform(artifact, [d.name for d in needed], runtime, architecture)
        if options.platform == "error":
            found.extend(native)
        else:
            warnings.extend(f.message for f in native)
    found.extend(_check_sizes(zappa_cli, artifact, handler, options))
    measured = handler if handler is not None else artifact
    size = f"{measured.unzipped_size / lc.MB:.1f} MB"
    name = os.path.basename(package)
    summary = (f"drift-guard: package ok: {name} ships the {len(needed)} packages the app "
               f"needs; {size} unzipped of the {options.max_unzipped_mb:g} MB budget")
    if ("reported", stage) not in state:
        summary = _report_line(report) + "\n" + summary
    return Outcome(phase, report, (*found, *findings), tuple(warnings), tuple(notes),
                   summary=summary,
                   title=f"in {name} ({size} unzipped) for {runtime} on {architecture}")


def _runtime_check(
    runtime: str, today: datetime.date, command: str, options: LambdaOptions
) -> Tuple[List[ArtifactFinding], List[str]]:
    """(findings, warnings) about the Lambda runtime's support dates."""
    from drift_guard import lambda_checks as lc

    if options.runtime == "off":
        return [], []
    problem = lc.runtime_problem(runtime, today, command)
    if problem is None:
        return [], []
    past, message = problem
    if past and options.runtime == "error":
        return [lc.ArtifactFinding(
            "runtime", runtime, message,
            'set "runtime" in zappa_settings to a supported one, or drift_guard.lambda.runtime '
            'to "warn"')], []
    return [], [message]


def _report_line(report: Report) -> str:
    from drift_guard.pipeline import render as render_report

    return render_report(report, "text").rstrip("\n")


def _state(zappa_cli: Any) -> set:  # type: ignore[type-arg]
    """What this run already told the user (both callbacks get the same ZappaCLI)."""
    state = getattr(zappa_cli, _STATE, None)
    if state is None:
        state = set()
        with contextlib.suppress(AttributeError):
            setattr(zappa_cli, _STATE, state)
    return state


def _phase(zappa_cli: Any) -> str:
    """Which callback this is. Zappa passes only itself, so look at its `callback(position)`
    frame; failing that, a package on disk means the zip phase."""
    frame = sys._getframe(1) if hasattr(sys, "_getframe") else None
    for _ in range(8):
        if frame is None:
            break
        if frame.f_code.co_name == "callback" and frame.f_locals.get("self") is zappa_cli:
            position = frame.f_locals.get("position")
            if position in ("settings", "zip"):
                return str(position)
        frame = frame.f_back
    zip_path = getattr(zappa_cli, "zip_path", None)
    return "zip" if zip_path and os.path.isfile(zip_path) else "settings"


def _local_runtime() -> str:
    # Zappa's own default: the Python running it.
    return f"python{sys.version_info[0]}.{sys.version_info[1]}"


# --- configuration ------------------------------------------------------------------------


def load_config(zappa_cli: Any, cwd: str) -> Tuple[Config, LambdaOptions]:
    """`[tool.drift-guard]` of pyproject.toml overridden, key by key, by the stage's
    `"drift_guard"` object (`-` and `_` spellings alike); `lambda` options merge likewise."""
    from drift_guard import config as config_mod
    from drift_guard.lambda_checks import lambda_options

    # Relative to the working directory where it is one, so messages name "pyproject.toml".
    here = "." if os.path.abspath(cwd) == os.getcwd() else cwd
    base = config_mod.load(here)
    pyproject = os.path.normpath(os.path.join(here, "pyproject.toml"))
    lambda_table: Dict[str, Any] = {}
    if base.lambda_:
        lambda_options(base.lambda_, "[tool.drift-guard].lambda", path=pyproject)
        lambda_table.update(_normalised(base.lambda_))

    stage_config = getattr(zappa_cli, "stage_config", None) or {}
    present = [k for k in SETTINGS_KEYS if k in stage_config]
    settings_file = _settings_file(zappa_cli, cwd)
    stage = getattr(zappa_cli, "api_stage", None) or "stage"
    if len(present) > 1:
        raise DriftGuardError(
            f'{stage}: both "drift_guard" and "drift-guard" are set; keep one', path=settings_file
        )
    cfg = base
    if present:
        key = present[0]
        where = f"{stage}.{key}"
        table = stage_config[key]
        cfg = config_mod.overlay(base, table, where, path=settings_file, base_dir=here)
        if "lambda" in table:
            # The stage's `lambda` keys are merged one by one into pyproject's.
            lambda_options(cfg.lambda_, f"{where}.lambda", path=settings_file)
            lambda_table.update(_normalised(cfg.lambda_))
    options = lambda_options(lambda_table, "lambda")
    return cfg._replace(lambda_=lambda_table), options


def _normalised(table: Mapping[str, Any]) -> Dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in table.items()}


def _settings_file(zappa_cli: Any, cwd: str) -> str:
    vargs = getattr(zappa_cli, "vargs", None) or {}
    given = vargs.get("settings_file")
    if given:
        return str(given)
    for name in ("zappa_settings.json", "zappa_settings.toml", "zappa_settings.yml",
                 "zappa_settings.yaml"):
        if os.path.isfile(os.path.join(cwd, name)):
            return name
    return "zappa_settings"


# --- the environment and what must ship ---------------------------------------------------


def _environment(zappa_cli: Any) -> Any:
    """The venv Zappa packages: `$VIRTUAL_ENV`, else pyenv's current version -- not the Python
    running Zappa (zappa/core.py `get_current_venv`)."""
    from drift_guard.environment import environment_at

    zappa = getattr(zappa_cli, "zappa", None)
    venv = zappa.get_current_venv() if zappa is not None else None
    if venv is None:
        raise DriftGuardError(
            "Zappa finds no virtualenv to package (VIRTUAL_ENV is not set and pyenv is not in "
            "use); activate the project's virtualenv and run zappa again"
        )
    if not os.path.isdir(str(venv)):
        raise DriftGuardError(
            "the virtualenv Zappa would package does not exist; fix VIRTUAL_ENV or activate the "
            "project's virtualenv", path=str(venv)
        )
    return environment_at(str(venv), "zappa")


def must_ship(
    report: Report, installed: Mapping[str, Installed], cfg: Config, cwd: str
) -> List[Installed]:
    """The installed distributions the app needs: what is declared (marker holding, expected
    installed) and, through Requires-Dist, what those need. Not the project itself (its code
    ships from the working directory), not what the user ignores, not pip (Zappa drops it on
    purpose; nothing imports it at run time)."""
    from drift_guard._names import canonical
    from drift_guard.pipeline import project_names
    from drift_guard.compare import closure
    from drift_guard.markers import evaluate, target_environment

    markers = target_environment(report.environment)
    skip = {canonical(n) for n in cfg.ignore} | {"pip"}
    skip |= {s.project for s in report.sources if s.project}
    skip |= set(project_names(cwd))
    roots = [
        (req.name, frozenset(canonical(e) for e in req.extras))
        for source in report.sources
        for req in source.requirements
        if req.name and req.expected and req.name in installed and req.name not in skip
        and evaluate(req.marker, markers)
    ]
    names = closure(roots, installed, markers) - skip
    return [installed[n] for n in sorted(names)]


# --- the package --------------------------------------------------------------------------


def _excludes(zappa_cli: Any) -> List[Exclude]:
    """What Zappa leaves out of site-packages: its built-in ZIP_EXCLUDES, "concurrent", and
    the stage's `exclude` and `exclude_glob`."""
    import importlib
    import warnings

    from drift_guard.lambda_checks import Exclude

    try:
        # Zappa has imported it already when it calls us; its list is the one that applies.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its dependencies' import-time noise is not ours
            builtin = list(getattr(importlib.import_module("zappa.core"), "ZIP_EXCLUDES", []))
    except ImportError:  # not run by Zappa
        builtin = []
    stage_config = getattr(zappa_cli, "stage_config", None) or {}
    result = [Exclude(p, f"Zappa's built-in exclude {p!r}", user=False) for p in builtin]
    user = [p for p in stage_config.get("exclude") or [] if isinstance(p, str)]
    for p in user:
        # By the zip phase Zappa has appended the package's own absolute path to the list.
        if not os.path.isabs(p) and p != "concurrent":
            result.append(Exclude(p, f'the "exclude" setting {p!r}'))
    result.append(Exclude("concurrent", "Zappa's built-in exclude 'concurrent'", user=False))
    for p in stage_config.get("exclude_glob") or []:
        if isinstance(p, str):
            result.append(Exclude(p, f'the "exclude_glob" setting {p!r}', glob=True))
    return result


def _package_paths(zappa_cli: Any, cwd: str) -> Tuple[str, Optional[Any]]:
    """(the package, the slim handler's zip read as an Artifact or None)."""
    from drift_guard.lambda_checks import open_artifact

    package = os.path.join(cwd, str(zappa_cli.zip_path))
    if not os.path.isfile(package):
        raise DriftGuardError("the package Zappa just built is not there", path=package)
    handler_path = getattr(zappa_cli, "handler_path", None)
    handler = None
    if package.endswith(".tar.gz") and handler_path:
        handler_file = os.path.join(cwd, str(handler_path))
        if os.path.isfile(handler_file):
            handler = open_artifact(handler_file)
    return package, handler


def _check_sizes(
    zappa_cli: Any, artifact: Any, handler: Optional[Any], options: LambdaOptions
) -> List[ArtifactFinding]:
    from drift_guard import lambda_checks as lc

    found: List[ArtifactFinding] = []
    if handler is None:
        size = lc.check_size(artifact, options.max_unzipped_mb)
        if size is not None:
            found.append(size)
        return found
    # slim_handler: Lambda unzips the small handler; the project archive is unpacked into
    # /tmp at start-up, whose size is the function's ephemeral storage.
    size = lc.check_size(handler, options.max_unzipped_mb, "the handler package")
    if size is not None:
        found.append(size)
    stage_config = getattr(zappa_cli, "stage_config", None) or {}
    storage = stage_config.get("ephemeral_storage") or {}
    tmp_mb = storage.get("Size", lc.DEFAULT_EPHEMERAL_MB) if isinstance(storage, dict) else None
    if isinstance(tmp_mb, (int, float)) and not isinstance(tmp_mb, bool):
        tmp = lc.check_size(artifact, tmp_mb, "the project archive (unpacked in /tmp)")
        if tmp is not None:
            found.append(tmp._replace(
                message=tmp.message.replace("the budget is", "the function's /tmp holds"),
                hint='raise "ephemeral_storage": {"Size": ...} (up to 10240), or exclude what '
                     "the function does not need"))
    return found
