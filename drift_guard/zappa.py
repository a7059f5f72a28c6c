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

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Mapping, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

if TYPE_CHECKING:
    from drift_guard.aws_lambda.artifact import Artifact
    from drift_guard.aws_lambda.excludes import Exclude
    from drift_guard.aws_lambda.report import LambdaReport
    from drift_guard.aws_lambda.target import LambdaOptions, Layer, Target
    from drift_guard.config import Config
    from drift_guard.models import Report

ACTING_COMMANDS = ("deploy", "update", "package")
"""The Zappa commands that build a package; every other command is left alone."""

ACTIONS = {"deploy": "create", "update": "update", "package": "package"}
"""What each command asks of Lambda, for the runtime's block dates."""

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
    lambda_report: Optional[LambdaReport] = None
    warnings: Tuple[str, ...] = ()
    summary: str = ""
    """The line printed when all is well (or why nothing was checked)."""

    @property
    def findings(self) -> tuple:  # type: ignore[type-arg]
        return self.lambda_report.findings if self.lambda_report is not None else ()

    @property
    def notes(self) -> Tuple[str, ...]:
        return self.lambda_report.notes if self.lambda_report is not None else ()

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


def render(outcome: Outcome, command: str) -> str:
    """The message Zappa prints when the check fails: the CLI's drift report, then the
    package's problems, then what happened to the command."""
    from drift_guard.aws_lambda.report import render_text
    from drift_guard.pipeline import render as render_report

    parts: List[str] = []
    if outcome.report is not None and outcome.report.fails:
        parts.append(render_report(outcome.report, "text"))
    if outcome.lambda_report is not None and (outcome.findings or outcome.notes):
        parts.append(render_text(outcome.lambda_report))
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

    from drift_guard.aws_lambda import checks
    from drift_guard.aws_lambda.report import LambdaReport
    from drift_guard.pipeline import check as check_drift
    from drift_guard.pipeline import project_names

    report, installed = check_drift(cfg, cwd=cwd, environment=env, allow=PACKAGED_BY_ZAPPA)
    state = _state(zappa_cli)
    stage = getattr(zappa_cli, "api_stage", None)
    warnings: List[str] = []
    target = _target(zappa_cli, options, warnings)
    if target.layers:
        # A package a layer brings is there at run time, installed locally or not.
        report = report._replace(findings=tuple(
            f for f in report.findings
            if not (f.kind == "missing" and target.layer_providing(f.name))))

    findings, runtime_warnings = checks.runtime_findings(target, today, ACTIONS[command], options)
    if ("runtime", stage) not in state:
        warnings.extend(runtime_warnings)  # both callbacks see the same runtime: say it once
    state.add(("runtime", stage))
    mismatch = checks.python_finding(env.python_version, target)
    if mismatch is not None and options.python != "off":
        if options.python == "error":
            findings.append(mismatch)
        elif ("python", stage) not in state:
            warnings.append(mismatch.message)
        state.add(("python", stage))

    from drift_guard._names import canonical

    skip = {canonical(n) for n in cfg.ignore} | {"pip"}
    skip |= {s.project for s in report.sources if s.project}
    skip |= set(project_names(cwd))
    missing = {f.name for f in report.findings if f.kind == "missing"}
    ship, needed = checks.needed(report.sources, installed, target, skip, missing=missing)
    findings.extend(needed)
    excludes = _excludes(zappa_cli)
    notes: List[str] = []

    artifact = handler = None
    if phase == "zip":
        artifact, handler = _package_paths(zappa_cli, cwd)
    try:
        found = checks.contents(ship, checks.venv_reader, target, artifact, excludes)
        findings.extend(found.findings)
        pins, pin_notes = checks.provided_pins(report.sources, found.left_out, target)
        for f in pins:  # once per run, whichever callback sees it first
            if ("provided", stage, f.name) not in state:
                findings.append(f)
                state.add(("provided", stage, f.name))
        for note in pin_notes:
            if ("note", stage, note) not in state:
                notes.append(note)
                state.add(("note", stage, note))
        findings.extend(checks.layer_findings(report.sources, target))
        size = None
        if artifact is not None:
            if options.platform != "off":
                owners = checks.owners_of(ship, checks.venv_reader)
                native = checks.platform_findings(artifact, target, owners)
                if options.platform == "error":
                    findings.extend(native)
                else:
                    warnings.extend(f.message for f in native)
            deploy_time = _deploy_time(installed, env, {d.name for d in ship})
            size, size_found = _sizes(zappa_cli, artifact, handler, target, options,
                                      deploy_time, {d.name for d in ship})
            findings.extend(size_found)
    finally:
        for a in (artifact, handler):
            if a is not None:
                a.close()

    name = os.path.basename(artifact.path) if artifact is not None else None
    lambda_report = LambdaReport(target, name, tuple(findings), tuple(warnings), tuple(notes),
                                 size, len(ship))
    summary = ""
    if phase == "settings" or ("reported", stage) not in state:
        summary = _report_line(report)
    state.add(("reported", stage))
    if phase == "zip" and size is not None:
        measured = f"{size.total / (1024 * 1024):.1f} MB unzipped"
        summary = (summary + "\n" if summary else "") + (
            f"drift-guard: package ok: {name} ships the {len(ship)} packages the app needs on "
            f"{target.describe()}; {measured} of the {options.max_unzipped_mb:g} MB budget"
            + _largest(size))
    if notes:
        summary += "".join(f"\ndrift-guard: note: {n}" for n in notes)
    return Outcome(phase, report, lambda_report, tuple(warnings), summary)


def _largest(size: Any) -> str:
    """"; largest: botocore 20.5 MB (runtime-provided), ..." -- where the megabytes are."""
    big = [p for p in size.packages[:3] if p.size >= 1024 * 1024]
    if not big:
        return ""
    return "; largest: " + ", ".join(
        f"{p.name} {p.size / (1024 * 1024):.1f} MB" + ("" if p.role == "app" else f" ({p.role})")
        for p in big)


def _target(zappa_cli: Any, options: LambdaOptions, warnings: List[str]) -> Target:
    """The runtime Zappa deploys to, with the layers the stage names."""
    from drift_guard.aws_lambda.target import make_target, read_layer_zip

    runtime = str(getattr(zappa_cli, "runtime", None) or options.target_runtime
                  or _local_runtime())
    architecture = str(getattr(zappa_cli, "architecture", None) or options.architecture
                       or "x86_64")
    described = {layer.name: layer for layer in options.layers}
    layers: List[Layer] = []
    stage_config = getattr(zappa_cli, "stage_config", None) or {}
    for arn in stage_config.get("layers") or []:
        layer = described.pop(str(arn), None)
        if layer is None:
            warnings.append(f"layer {arn}: what it provides and its size are unknown; describe "
                            f"it under drift_guard.lambda.layers (provides, size-mb) or give "
                            f"its zip")
            continue
        layers.append(layer)
    layers.extend(described.values())
    layers.extend(read_layer_zip(z) for z in options.layer_zips)
    return make_target(runtime, architecture, options, tuple(layers))


def _deploy_time(installed: Mapping[str, Any], env: Any, needed: set) -> set:  # type: ignore[type-arg]
    from drift_guard.aws_lambda.size import DEPLOY_TOOLS, zappa_closure
    from drift_guard.markers import target_environment

    closure = zappa_closure(installed, target_environment(env))
    return (closure | set(DEPLOY_TOOLS)) - needed


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
    from drift_guard.aws_lambda.target import lambda_options

    # Relative to the working directory where it is one, so messages name "pyproject.toml".
    here = "." if os.path.abspath(cwd) == os.getcwd() else cwd
    base = config_mod.load(here)
    pyproject = os.path.normpath(os.path.join(here, "pyproject.toml"))
    options = lambda_options(base.lambda_ or {}, "[tool.drift-guard].lambda", path=pyproject)

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
            options = lambda_options(cfg.lambda_, f"{where}.lambda", path=settings_file,
                                     base=options)
    return cfg, options


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


# --- the environment ------------------------------------------------------------------------


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


# --- the package --------------------------------------------------------------------------


def _excludes(zappa_cli: Any) -> List[Exclude]:
    """What Zappa leaves out of site-packages: its built-in ZIP_EXCLUDES, "concurrent", and
    the stage's `exclude` and `exclude_glob`."""
    import importlib
    import warnings

    from drift_guard.aws_lambda.excludes import Exclude

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


def _package_paths(zappa_cli: Any, cwd: str) -> Tuple[Artifact, Optional[Artifact]]:
    """(the package, the slim handler's zip or None), opened."""
    from drift_guard.aws_lambda.artifact import open_artifact

    package = os.path.join(cwd, str(zappa_cli.zip_path))
    if not os.path.isfile(package):
        raise DriftGuardError("the package Zappa just built is not there", path=package)
    handler_path = getattr(zappa_cli, "handler_path", None)
    handler = None
    if package.endswith(".tar.gz") and handler_path:
        handler_file = os.path.join(cwd, str(handler_path))
        if os.path.isfile(handler_file):
            handler = open_artifact(handler_file)
    return open_artifact(package), handler


def _sizes(
    zappa_cli: Any, artifact: Artifact, handler: Optional[Artifact], target: Target,
    options: LambdaOptions, deploy_time: set, needed: set,  # type: ignore[type-arg]
) -> Tuple[Any, List[Any]]:
    from drift_guard.aws_lambda import size as sz
    from drift_guard.aws_lambda.artifact import distributions
    from drift_guard.aws_lambda.checks import artifact_reader
    from drift_guard.aws_lambda.target import DEFAULT_EPHEMERAL_MB, MB

    dists = distributions(artifact).values()
    report = sz.measure(artifact, dists, artifact_reader(artifact), target, deploy_time,
                        needed, options.max_unzipped_mb)
    if handler is None:
        found = sz.size_finding(report)
        return report, [found] if found is not None else []
    # slim_handler: Lambda unzips the small handler; the project archive is unpacked into
    # /tmp at start-up, whose size is the function's ephemeral storage.
    found_list = []
    handler_report = report._replace(package=handler.unzipped_size, packages=(), remedies=())
    found = sz.size_finding(handler_report, "the handler package")
    if found is not None:
        found_list.append(found)
    stage_config = getattr(zappa_cli, "stage_config", None) or {}
    storage = stage_config.get("ephemeral_storage") or {}
    tmp_mb = storage.get("Size", DEFAULT_EPHEMERAL_MB) if isinstance(storage, dict) else None
    if isinstance(tmp_mb, (int, float)) and not isinstance(tmp_mb, bool):
        tmp_report = report._replace(layers=(), budget=int(tmp_mb * MB))
        tmp = sz.size_finding(tmp_report, "the project archive (unpacked in /tmp)",
                              "the function's /tmp holds")
        if tmp is not None:
            found_list.append(tmp._replace(
                hint='raise "ephemeral_storage": {"Size": ...} (up to 10240), or exclude what '
                     "the function does not need; " + tmp.hint))
    return report, found_list
