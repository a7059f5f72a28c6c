"""The check pipeline every front end shares (CLI, Zappa callback, Lambda command, hooks):
find the environment, list what is installed, read the declarations, compare, render.

Nothing here prints or exits; front ends decide what to show and which exit code it means.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Mapping, Optional, Sequence, Tuple

from drift_guard.errors import DriftGuardError

if TYPE_CHECKING:
    from drift_guard.config import Config
    from drift_guard.models import Environment, Finding, Installed, Report, Source


def check(
    cfg: Config, *, cwd: str, environment: Optional[Environment] = None, allow: Sequence[str] = (),
    installed: Optional[Mapping[str, Installed]] = None,
) -> Tuple[Report, dict[str, Installed]]:
    """Find the environment (unless given), read the declarations, compare. No printing.

    `installed` replaces the environment's listing (the Lambda command compares a built
    package, whose distributions it read itself); markers come from `environment`."""
    from drift_guard.compare import compare, name_direct_references
    from drift_guard.environment import find_environment
    from drift_guard.installed import list_installed
    from drift_guard.markers import target_environment
    from drift_guard.models import ReadContext, Report
    from drift_guard.readers import detect, read_source

    files = cfg.sources
    if not files:
        found = detect(cwd)
        if found is None:
            raise DriftGuardError(
                f"no declaration file in {cwd} (looked for poetry.lock, Pipfile.lock, uv.lock, "
                "pylock.toml, requirements.txt); name one: drift-guard requirements.txt"
            )
        files = (found,)

    env = environment or find_environment(cfg.python, cfg.venv, cwd=cwd)
    markers = target_environment(env)
    ctx = ReadContext(
        markers=markers,
        project_dir=cwd,
        with_groups=cfg.with_groups,
        without_groups=cfg.without_groups,
        only_groups=cfg.only_groups,
        extras=cfg.extras,
    )
    sources: List[Source] = [read_source(path, ctx) for path in dict.fromkeys(files)]
    installed = dict(installed) if installed is not None else list_installed(env)
    sources, notes = name_direct_references(sources, installed, cwd)

    def run(projects: Tuple[str, ...]) -> List[Finding]:
        return compare(
            installed,
            sources,
            markers,
            ignore=cfg.ignore,
            allow=(*cfg.allow, *allow),
            projects=projects,
            require_pins=cfg.require_pins,
        )

    findings = run(())
    if findings:
        # The project's own distribution is never drift; reading pyproject.toml for its name
        # (a TOML parse) is needed only when there is something it could explain.
        projects = project_names(cwd)
        if projects:
            findings = run(projects)
    findings, import_notes = rank_by_imports(cfg, findings, env, installed, cwd)
    notes = [*notes, *import_notes]
    if cfg.fail_on is not None or cfg.undeclared != "all":
        from drift_guard.imports.resolve import tolerate

        findings = tolerate(findings, cfg.fail_on, cfg.undeclared)
    return Report(env, tuple(sources), tuple(findings), tuple(notes)), installed


def rank_by_imports(
    cfg: Config, findings: List[Finding], env: Environment, installed: dict[str, Installed],
    cwd: str,
) -> Tuple[List[Finding], List[str]]:
    """Undeclared findings the code imports gain `imported_by` and come first; `unresolved`
    findings are added when configured.

    The code is read only when it can change the verdict: there is an undeclared finding to
    rank, or unresolved imports are looked for. A clean environment costs no scan.
    """
    want_unresolved = cfg.unresolved or "unresolved" in (cfg.fail_on or ())
    if not cfg.imports or not (
        want_unresolved or any(f.kind == "undeclared" for f in findings)
    ):
        return findings, []
    from drift_guard.imports.resolve import rank, resolve

    resolution = resolve(cwd, env, installed, code=cfg.code, exclude=cfg.code_exclude)
    ranked = rank(findings, resolution, unresolved=want_unresolved, ignore=cfg.ignore)
    return ranked, list(resolution.notes)


def project_names(cwd: str) -> Tuple[str, ...]:
    path = os.path.join(cwd, "pyproject.toml")
    if not os.path.isfile(path):
        return ()
    from drift_guard.readers.pyproject import project_name

    name = project_name(path)
    return (name,) if name else ()


def render(report: Report, fmt: str, *, quiet: bool = False) -> str:
    """The report in `fmt` ("text", "json", "github", "markdown"); see drift_guard.render."""
    from drift_guard.render import render as render_report

    return render_report(report, fmt, quiet=quiet)
